import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateMailOutbox1795305604000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'mail_outbox',
        columns: [
          col.id(),
          col.varchar('dedupeKey', 200, { isNullable: true }),
          col.varchar('kind', 40),
          col.varchar('toAddress', 254),
          col.varchar('subject', 300),
          col.text('bodyEncrypted'),
          col.varchar('status', 12),
          col.int('attempts'),
          col.timestamp('nextAttemptAt'),
          col.timestamp('sentAt', { isNullable: true }),
          col.text('lastError', { isNullable: true }),
          col.timestamp('createdAt'),
        ],
      }),
    );
    await q.createIndex('mail_outbox', new TableIndex({ name: 'IDX_outbox_dedupe', columnNames: ['dedupeKey'], isUnique: true }));
    await q.createIndex('mail_outbox', new TableIndex({ name: 'IDX_outbox_due', columnNames: ['status', 'nextAttemptAt'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('mail_outbox');
  }
}
