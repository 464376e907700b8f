import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateVendorSubprocessors1795392002000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'vendor_subprocessors',
        columns: [
          col.id(),
          col.int('vendorId'),
          col.varchar('name', 300),
          col.varchar('purpose', 500),
          col.varchar('location', 200, { isNullable: true }),
          col.timestamp('createdAt'),
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['vendorId'], referencedTableName: 'vendors', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
    await q.createIndex('vendor_subprocessors', new TableIndex({ name: 'IDX_vendor_subprocessors_vendor', columnNames: ['vendorId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('vendor_subprocessors');
  }
}
