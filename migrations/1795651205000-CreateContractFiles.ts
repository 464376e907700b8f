import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

/** Contract documents (signed copies, redlines, executed amendments), encrypted on disk; metadata here. */
export class CreateContractFiles1795651205000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'contract_files',
        columns: [
          col.id(),
          col.int('vendorId'),
          col.int('contractId', { isNullable: true }),
          col.int('amendmentId', { isNullable: true }),
          col.varchar('kind', 12),
          col.varchar('fileName', 255),
          col.varchar('storedName', 80),
          col.varchar('mediaType', 100),
          col.int('size'),
          col.varchar('sha256', 64),
          col.int('uploadedById', { isNullable: true }),
          col.timestamp('uploadedAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['vendorId'], referencedTableName: 'vendors', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['contractId'], referencedTableName: 'contracts', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['amendmentId'], referencedTableName: 'contract_amendments', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['uploadedById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('contract_files', new TableIndex({ name: 'IDX_contract_files_vendor', columnNames: ['vendorId'] }));
    await q.createIndex('contract_files', new TableIndex({ name: 'IDX_contract_files_contract', columnNames: ['contractId'] }));
    await q.createIndex('contract_files', new TableIndex({ name: 'IDX_contract_files_amendment', columnNames: ['amendmentId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('contract_files');
  }
}
