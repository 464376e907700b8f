import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

/** The comment thread of each amendment request. */
export class CreateAmendmentComments1795651204000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'contract_amendment_comments',
        columns: [col.id(), col.int('amendmentId'), col.int('authorId', { isNullable: true }), col.text('body'), col.timestamp('createdAt')],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['amendmentId'], referencedTableName: 'contract_amendments', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['authorId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('contract_amendment_comments', new TableIndex({ name: 'IDX_amendment_comments_amendment', columnNames: ['amendmentId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('contract_amendment_comments');
  }
}
