import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

/** The clauses of the contracts each amendment request is meant to add. */
export class CreateAmendmentItems1795651203000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'contract_amendment_items',
        columns: [
          col.id(),
          col.int('amendmentId'),
          col.int('contractId'),
          col.varchar('clauseId', 32),
          col.varchar('statusAtOpening', 16),
          col.varchar('reference', 100, { isNullable: true }),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['amendmentId'], referencedTableName: 'contract_amendments', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['contractId'], referencedTableName: 'contracts', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
      }),
    );
    await q.createIndex('contract_amendment_items', new TableIndex({ name: 'IDX_amendment_items_unique', columnNames: ['amendmentId', 'contractId', 'clauseId'], isUnique: true }));
    await q.createIndex('contract_amendment_items', new TableIndex({ name: 'IDX_amendment_items_contract_clause', columnNames: ['contractId', 'clauseId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('contract_amendment_items');
  }
}
