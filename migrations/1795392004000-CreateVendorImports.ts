import { type MigrationInterface, type QueryRunner, Table, TableForeignKey } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateVendorImports1795392004000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'vendor_imports',
        columns: [
          col.id(),
          col.int('createdById'),
          col.varchar('fileName', 255),
          col.int('rowCount'),
          col.text('rows'),
          col.varchar('status', 12),
          col.timestamp('createdAt'),
          col.timestamp('committedAt', { isNullable: true }),
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['createdById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('vendor_imports');
  }
}
