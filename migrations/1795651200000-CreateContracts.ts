import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

/** Contracts with vendors: type, dates, renewal terms, status and the contract each amends. */
export class CreateContracts1795651200000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'contracts',
        columns: [
          col.id(),
          col.int('vendorId'),
          col.varchar('title', 300),
          col.varchar('type', 10),
          col.varchar('status', 12),
          col.varchar('effectiveOn', 10, { isNullable: true }),
          col.varchar('expiresOn', 10, { isNullable: true }),
          col.varchar('signedOn', 10, { isNullable: true }),
          col.bool('autoRenews'),
          col.int('noticeDays', { isNullable: true }),
          col.varchar('noticeDeadline', 10, { isNullable: true }),
          col.int('amendsId', { isNullable: true }),
          col.text('notes', { isNullable: true }),
          col.int('createdById', { isNullable: true }),
          col.timestamp('createdAt'),
          col.timestamp('updatedAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['vendorId'], referencedTableName: 'vendors', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['amendsId'], referencedTableName: 'contracts', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['createdById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('contracts', new TableIndex({ name: 'IDX_contracts_vendor_status', columnNames: ['vendorId', 'status'] }));
    await q.createIndex('contracts', new TableIndex({ name: 'IDX_contracts_type', columnNames: ['type'] }));
    await q.createIndex('contracts', new TableIndex({ name: 'IDX_contracts_status', columnNames: ['status'] }));
    await q.createIndex('contracts', new TableIndex({ name: 'IDX_contracts_expires', columnNames: ['expiresOn'] }));
    await q.createIndex('contracts', new TableIndex({ name: 'IDX_contracts_notice_deadline', columnNames: ['noticeDeadline'] }));
    await q.createIndex('contracts', new TableIndex({ name: 'IDX_contracts_amends', columnNames: ['amendsId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('contracts');
  }
}
