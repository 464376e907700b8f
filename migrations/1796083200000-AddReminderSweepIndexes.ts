import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * An index found missing by the reminder sweep's benchmark: certification reminders keep only the
 * latest signed certification of each vendor and purpose, a NOT EXISTS over the vendor's other
 * certifications that without it scanned the table once per row (40 s at 10,000 vendors).
 */
export class AddReminderSweepIndexes1796083200000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('certifications', new TableIndex({ name: 'IDX_certifications_vendor_purpose_status', columnNames: ['vendorId', 'purpose', 'status', 'expiresOn'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('certifications', 'IDX_certifications_vendor_purpose_status');
  }
}
