import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

/** Amendment requests: adding missing clauses to a vendor's contracts, and where each negotiation stands. */
export class CreateContractAmendments1795651202000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'contract_amendments',
        columns: [
          col.id(),
          col.int('vendorId'),
          col.varchar('title', 300),
          col.varchar('status', 12),
          col.int('ownerId', { isNullable: true }),
          col.varchar('targetDate', 10, { isNullable: true }),
          col.timestamp('sentAt', { isNullable: true }),
          col.timestamp('negotiatingAt', { isNullable: true }),
          col.timestamp('closedAt', { isNullable: true }),
          col.text('closingReason', { isNullable: true }),
          col.int('findingId', { isNullable: true }),
          col.int('createdById', { isNullable: true }),
          col.timestamp('createdAt'),
          col.timestamp('updatedAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['vendorId'], referencedTableName: 'vendors', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['ownerId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['findingId'], referencedTableName: 'findings', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['createdById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('contract_amendments', new TableIndex({ name: 'IDX_amendments_vendor', columnNames: ['vendorId'] }));
    await q.createIndex('contract_amendments', new TableIndex({ name: 'IDX_amendments_status', columnNames: ['status'] }));
    await q.createIndex('contract_amendments', new TableIndex({ name: 'IDX_amendments_owner', columnNames: ['ownerId'] }));
    await q.createIndex('contract_amendments', new TableIndex({ name: 'IDX_amendments_target', columnNames: ['targetDate'] }));
    await q.createIndex('contract_amendments', new TableIndex({ name: 'IDX_amendments_created', columnNames: ['createdAt'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('contract_amendments');
  }
}
