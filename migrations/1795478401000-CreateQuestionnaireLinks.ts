import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateQuestionnaireLinks1795478401000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'questionnaire_links',
        columns: [
          col.id(),
          col.int('questionnaireId'),
          col.varchar('tokenHash', 64),
          col.timestamp('issuedAt'),
          col.timestamp('expiresAt'),
          col.timestamp('replacedAt', { isNullable: true }),
          col.timestamp('revokedAt', { isNullable: true }),
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['questionnaireId'], referencedTableName: 'questionnaires', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
    await q.createIndex('questionnaire_links', new TableIndex({ name: 'IDX_questionnaire_links_hash', columnNames: ['tokenHash'], isUnique: true }));
    await q.createIndex('questionnaire_links', new TableIndex({ name: 'IDX_questionnaire_links_questionnaire', columnNames: ['questionnaireId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('questionnaire_links');
  }
}
