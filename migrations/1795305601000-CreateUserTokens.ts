import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateUserTokens1795305601000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'user_tokens',
        columns: [
          col.id(),
          col.int('userId', { isNullable: true }),
          col.varchar('purpose', 20),
          col.varchar('tokenHash', 64),
          col.timestamp('expiresAt'),
          col.timestamp('usedAt', { isNullable: true }),
          col.int('createdById', { isNullable: true }),
          col.timestamp('createdAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['userId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['createdById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('user_tokens', new TableIndex({ name: 'IDX_user_tokens_hash', columnNames: ['tokenHash'], isUnique: true }));
    await q.createIndex('user_tokens', new TableIndex({ name: 'IDX_user_tokens_user', columnNames: ['userId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('user_tokens');
  }
}
