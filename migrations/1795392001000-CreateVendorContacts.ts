import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateVendorContacts1795392001000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'vendor_contacts',
        columns: [
          col.id(),
          col.int('vendorId'),
          col.varchar('name', 200),
          col.varchar('email', 254),
          col.varchar('role', 200, { isNullable: true }),
          col.bool('isSecurityContact'),
          col.timestamp('createdAt'),
          col.timestamp('updatedAt'),
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['vendorId'], referencedTableName: 'vendors', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
    await q.createIndex('vendor_contacts', new TableIndex({ name: 'IDX_vendor_contacts_vendor', columnNames: ['vendorId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('vendor_contacts');
  }
}
