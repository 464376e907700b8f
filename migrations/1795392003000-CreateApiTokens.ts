import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateApiTokens1795392003000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'api_tokens',
        columns: [
          col.id(),
          col.int('userId'),
          col.varchar('name', 100),
          col.varchar('tokenHash', 64),
          col.varchar('prefix', 16),
          col.timestamp('createdAt'),
          col.timestamp('lastUsedAt', { isNullable: true }),
          col.timestamp('revokedAt', { isNullable: true }),
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['userId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
    await q.createIndex('api_tokens', new TableIndex({ name: 'IDX_api_tokens_hash', columnNames: ['tokenHash'], isUnique: true }));
    await q.createIndex('api_tokens', new TableIndex({ name: 'IDX_api_tokens_user', columnNames: ['userId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('api_tokens');
  }
}
