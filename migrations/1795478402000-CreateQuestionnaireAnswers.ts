import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateQuestionnaireAnswers1795478402000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'questionnaire_answers',
        columns: [col.id(), col.int('questionnaireId'), col.varchar('questionId', 64), col.text('value', { isNullable: true }), col.timestamp('updatedAt')],
        foreignKeys: [new TableForeignKey({ columnNames: ['questionnaireId'], referencedTableName: 'questionnaires', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
    await q.createIndex('questionnaire_answers', new TableIndex({ name: 'IDX_answers_question', columnNames: ['questionnaireId', 'questionId'], isUnique: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('questionnaire_answers');
  }
}
