import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateUsers1795305600000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'users',
        columns: [
          col.id(),
          col.varchar('email', 254),
          col.varchar('name', 200),
          col.varchar('role', 20),
          col.varchar('passwordHash', 255, { isNullable: true }),
          col.bool('active'),
          col.int('failedLoginCount'),
          col.timestamp('lockedUntil', { isNullable: true }),
          col.timestamp('lastLoginAt', { isNullable: true }),
          col.timestamp('passwordChangedAt', { isNullable: true }),
          col.timestamp('createdAt'),
          col.timestamp('updatedAt'),
        ],
      }),
    );
    await q.createIndex('users', new TableIndex({ name: 'IDX_users_email', columnNames: ['email'], isUnique: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('users');
  }
}
