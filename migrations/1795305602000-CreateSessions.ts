import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateSessions1795305602000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          col.varchar('id', 64, { isPrimary: true }),
          col.int('userId', { isNullable: true }),
          col.text('data'),
          col.timestamp('expiresAt'),
          col.timestamp('createdAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['userId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
      }),
    );
    await q.createIndex('sessions', new TableIndex({ name: 'IDX_sessions_user', columnNames: ['userId'] }));
    await q.createIndex('sessions', new TableIndex({ name: 'IDX_sessions_expires', columnNames: ['expiresAt'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('sessions');
  }
}
