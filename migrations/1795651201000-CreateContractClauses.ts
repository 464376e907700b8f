import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

/** The review of each catalogue clause in each contract (no row: not reviewed). */
export class CreateContractClauses1795651201000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'contract_clauses',
        columns: [
          col.id(),
          col.int('contractId'),
          col.varchar('clauseId', 32),
          col.varchar('status', 16),
          col.varchar('reference', 100, { isNullable: true }),
          col.text('note', { isNullable: true }),
          col.int('amendmentId', { isNullable: true }),
          col.int('reviewedById', { isNullable: true }),
          col.timestamp('reviewedAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['contractId'], referencedTableName: 'contracts', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['reviewedById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('contract_clauses', new TableIndex({ name: 'IDX_contract_clauses_contract_clause', columnNames: ['contractId', 'clauseId'], isUnique: true }));
    await q.createIndex('contract_clauses', new TableIndex({ name: 'IDX_contract_clauses_clause_status', columnNames: ['clauseId', 'status'] }));
    await q.createIndex('contract_clauses', new TableIndex({ name: 'IDX_contract_clauses_amendment', columnNames: ['amendmentId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('contract_clauses');
  }
}
