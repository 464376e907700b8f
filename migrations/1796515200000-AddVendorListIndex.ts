import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * The vendor list sorted by next reassessment reads its page of a status and scope in date order
 * from this index, and counts the matching vendors from it alone, instead of sorting every matching
 * vendor. It begins with (status, inScope), so it also serves everything the index it replaces did.
 */
export class AddVendorListIndex1796515200000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('vendors', new TableIndex({ name: 'IDX_vendors_status_scope_next', columnNames: ['status', 'inScope', 'nextReassessmentOn'] }));
    await q.dropIndex('vendors', 'IDX_vendors_status_scope');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.createIndex('vendors', new TableIndex({ name: 'IDX_vendors_status_scope', columnNames: ['status', 'inScope'] }));
    await q.dropIndex('vendors', 'IDX_vendors_status_scope_next');
  }
}
