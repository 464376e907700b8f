import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * The findings list filtered by status (the dashboard's "Open findings" links to it) reads its page
 * newest first from this index, instead of sorting every finding of that status (on SQLite, 70 ms
 * for the 40,000 open findings of the benchmark, 0.3 ms from the index). It begins with status, so
 * it also serves everything the index it replaces did.
 */
export class AddFindingStatusListIndex1796688000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('findings', new TableIndex({ name: 'IDX_findings_status_created', columnNames: ['status', 'createdAt', 'id'] }));
    await q.dropIndex('findings', 'IDX_findings_status');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.createIndex('findings', new TableIndex({ name: 'IDX_findings_status', columnNames: ['status'] }));
    await q.dropIndex('findings', 'IDX_findings_status_created');
  }
}
