import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col } from '../server/db/columns';

/** Templates exactly as sent, stored once per content hash and shared by every questionnaire sent with them. */
export class CreateTemplateSnapshots1795478399000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'template_snapshots',
        columns: [col.varchar('hash', 64, { isPrimary: true }), col.varchar('templateId', 64), col.int('version'), col.text('content'), col.timestamp('createdAt')],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('template_snapshots');
  }
}
