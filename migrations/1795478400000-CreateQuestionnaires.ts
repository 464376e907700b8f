import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateQuestionnaires1795478400000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'questionnaires',
        columns: [
          col.id(),
          col.int('vendorId'),
          col.int('contactId', { isNullable: true }),
          col.varchar('recipientName', 200),
          col.varchar('recipientEmail', 254),
          col.varchar('templateId', 64),
          col.int('templateVersion'),
          col.varchar('templateHash', 64),
          col.varchar('title', 200),
          col.varchar('status', 20),
          col.varchar('dueDate', 10),
          col.int('sentById', { isNullable: true }),
          col.timestamp('sentAt'),
          col.timestamp('firstOpenedAt', { isNullable: true }),
          col.timestamp('lastSavedAt', { isNullable: true }),
          col.timestamp('submittedAt', { isNullable: true }),
          col.timestamp('createdAt'),
          col.timestamp('updatedAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['vendorId'], referencedTableName: 'vendors', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['contactId'], referencedTableName: 'vendor_contacts', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['sentById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['templateHash'], referencedTableName: 'template_snapshots', referencedColumnNames: ['hash'] }),
        ],
      }),
    );
    await q.createIndex('questionnaires', new TableIndex({ name: 'IDX_questionnaires_vendor', columnNames: ['vendorId'] }));
    await q.createIndex('questionnaires', new TableIndex({ name: 'IDX_questionnaires_status', columnNames: ['status'] }));
    await q.createIndex('questionnaires', new TableIndex({ name: 'IDX_questionnaires_due', columnNames: ['dueDate'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('questionnaires');
  }
}
