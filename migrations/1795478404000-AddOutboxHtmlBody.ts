import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/** Messages get an HTML body beside the text one (both encrypted). */
export class AddOutboxHtmlBody1795478404000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('mail_outbox', new TableColumn({ name: 'htmlEncrypted', type: 'text', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('mail_outbox', 'htmlEncrypted');
  }
}
