import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateVendors1795392000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'vendors',
        columns: [
          col.id(),
          col.varchar('legalName', 300),
          col.varchar('legalNameKey', 300),
          col.varchar('tradingName', 300, { isNullable: true }),
          col.varchar('website', 500, { isNullable: true }),
          col.text('services', { isNullable: true }),
          col.int('businessOwnerId', { isNullable: true }),
          col.varchar('status', 20),
          col.text('notes', { isNullable: true }),
          col.varchar('piElements', 100),
          col.varchar('maResidents', 10),
          col.varchar('recordVolume', 12),
          col.varchar('accessModes', 100),
          col.varchar('dataLocation', 500, { isNullable: true }),
          col.bool('inScope'),
          col.varchar('computedTier', 10),
          col.varchar('tier', 10),
          col.varchar('tierOverride', 10, { isNullable: true }),
          col.text('tierOverrideReason', { isNullable: true }),
          col.int('tierOverrideById', { isNullable: true }),
          col.timestamp('tierOverrideAt', { isNullable: true }),
          col.varchar('lastAssessedOn', 10, { isNullable: true }),
          col.varchar('nextReassessmentOn', 10, { isNullable: true }),
          col.int('createdById', { isNullable: true }),
          col.timestamp('createdAt'),
          col.timestamp('updatedAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['businessOwnerId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['tierOverrideById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['createdById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('vendors', new TableIndex({ name: 'IDX_vendors_name_key', columnNames: ['legalNameKey'], isUnique: true }));
    await q.createIndex('vendors', new TableIndex({ name: 'IDX_vendors_owner', columnNames: ['businessOwnerId'] }));
    await q.createIndex('vendors', new TableIndex({ name: 'IDX_vendors_status', columnNames: ['status'] }));
    await q.createIndex('vendors', new TableIndex({ name: 'IDX_vendors_tier', columnNames: ['tier'] }));
    await q.createIndex('vendors', new TableIndex({ name: 'IDX_vendors_next_reassessment', columnNames: ['nextReassessmentOn'] }));
    await q.createIndex('vendors', new TableIndex({ name: 'IDX_vendors_updated', columnNames: ['updatedAt'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('vendors');
  }
}
