import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col } from '../server/db/columns';

/** Named leases, so that one instance at a time runs a sweep. */
export class CreateLeases1795824001000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'leases',
        columns: [
          { ...col.varchar('name', 64), isPrimary: true },
          col.varchar('holder', 120),
          col.timestamp('expiresAt'),
          col.timestamp('acquiredAt'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('leases');
  }
}
