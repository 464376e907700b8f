import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * Indexes found missing by the benchmark (README, "Performance"): the findings list is ordered by
 * creation, newest first, and sorted every row without one; the portfolio coverage looks up a
 * contract's clause status, which the unique (contractId, clauseId) index answers only with a
 * table read per row, so the status is added to a covering index.
 */
export class AddListIndexes1795996800000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('findings', new TableIndex({ name: 'IDX_findings_created', columnNames: ['createdAt', 'id'] }));
    await q.createIndex('contract_clauses', new TableIndex({ name: 'IDX_contract_clauses_coverage', columnNames: ['contractId', 'clauseId', 'status'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('contract_clauses', 'IDX_contract_clauses_coverage');
    await q.dropIndex('findings', 'IDX_findings_created');
  }
}
