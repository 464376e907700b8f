import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * Indexes found missing by the benchmark's query profile (`npm run bench -- --profile`): the vendor
 * list's certification column looked a page of vendors up through the purpose index (every annual
 * certification) rather than by vendor, and the vendor list, its count and the portfolio shares
 * filter vendors by status and scope together.
 */
export class AddPageIndexes1796169600000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('certifications', new TableIndex({ name: 'IDX_certifications_vendor_purpose', columnNames: ['vendorId', 'purpose', 'status'] }));
    await q.createIndex('vendors', new TableIndex({ name: 'IDX_vendors_status_scope', columnNames: ['status', 'inScope'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('vendors', 'IDX_vendors_status_scope');
    await q.dropIndex('certifications', 'IDX_certifications_vendor_purpose');
  }
}
