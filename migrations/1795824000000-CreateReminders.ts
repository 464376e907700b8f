import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

/** Every reminder the sweep decided on, keyed so that none is ever sent twice. */
export class CreateReminders1795824000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'reminders',
        columns: [
          col.id(),
          col.varchar('key', 200),
          col.varchar('rule', 40),
          col.int('vendorId', { isNullable: true }),
          col.varchar('subjectType', 24),
          col.int('subjectId'),
          col.varchar('occurrence', 40),
          col.varchar('recipientEmail', 254),
          col.int('recipientUserId', { isNullable: true }),
          col.varchar('summary', 500),
          col.varchar('url', 500, { isNullable: true }),
          col.varchar('dueOn', 10, { isNullable: true }),
          col.varchar('delivery', 8),
          col.int('outboxId', { isNullable: true }),
          col.int('digestOutboxId', { isNullable: true }),
          col.varchar('sweepDate', 10),
          col.timestamp('createdAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['vendorId'], referencedTableName: 'vendors', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['recipientUserId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('reminders', new TableIndex({ name: 'IDX_reminders_key', columnNames: ['key'], isUnique: true }));
    await q.createIndex('reminders', new TableIndex({ name: 'IDX_reminders_vendor_created', columnNames: ['vendorId', 'createdAt'] }));
    await q.createIndex('reminders', new TableIndex({ name: 'IDX_reminders_created', columnNames: ['createdAt'] }));
    await q.createIndex('reminders', new TableIndex({ name: 'IDX_reminders_digest', columnNames: ['delivery', 'digestOutboxId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('reminders');
  }
}
