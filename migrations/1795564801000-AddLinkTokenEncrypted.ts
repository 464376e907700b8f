import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/** The link token, encrypted, so later emails (clarifications, reminders) can carry the same link. */
export class AddLinkTokenEncrypted1795564801000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('questionnaire_links', new TableColumn({ name: 'tokenEncrypted', type: 'text', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('questionnaire_links', 'tokenEncrypted');
  }
}
