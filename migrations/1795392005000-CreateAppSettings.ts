import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateAppSettings1795392005000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'app_settings',
        columns: [col.varchar('key', 100, { isPrimary: true }), col.text('value'), col.timestamp('updatedAt')],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('app_settings');
  }
}
