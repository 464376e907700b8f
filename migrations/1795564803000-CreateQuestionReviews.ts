import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateQuestionReviews1795564803000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'question_reviews',
        columns: [
          col.id(),
          col.int('questionnaireId'),
          col.varchar('questionId', 64),
          col.varchar('mark', 12, { isNullable: true }),
          col.text('comment', { isNullable: true }),
          col.text('clarification', { isNullable: true }),
          col.int('updatedById', { isNullable: true }),
          col.timestamp('updatedAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['questionnaireId'], referencedTableName: 'questionnaires', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['updatedById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('question_reviews', new TableIndex({ name: 'IDX_question_reviews_question', columnNames: ['questionnaireId', 'questionId'], isUnique: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('question_reviews');
  }
}
