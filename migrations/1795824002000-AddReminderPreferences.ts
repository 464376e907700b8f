import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';

/** Users choose immediate reminder mails or a daily digest and may hold a calendar feed; vendors choose how reassessment starts. */
export class AddReminderPreferences1795824002000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('users', [
      new TableColumn({ name: 'reminderDelivery', type: 'varchar', length: '10', default: "'immediate'" }),
      new TableColumn({ name: 'calendarTokenHash', type: 'varchar', length: '64', isNullable: true }),
    ]);
    await q.createIndex('users', new TableIndex({ name: 'IDX_users_calendar_token', columnNames: ['calendarTokenHash'], isUnique: true }));
    await q.addColumn('vendors', new TableColumn({ name: 'reassessmentStart', type: 'varchar', length: '12', default: "'send'" }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('vendors', 'reassessmentStart');
    await q.dropIndex('users', 'IDX_users_calendar_token');
    await q.dropColumns('users', ['reminderDelivery', 'calendarTokenHash']);
  }
}
