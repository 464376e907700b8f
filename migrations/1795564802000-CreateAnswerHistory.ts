import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateAnswerHistory1795564802000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'answer_history',
        columns: [
          col.id(),
          col.int('questionnaireId'),
          col.varchar('questionId', 64),
          col.text('previousValue', { isNullable: true }),
          col.text('newValue', { isNullable: true }),
          col.varchar('changedBy', 300),
          col.timestamp('changedAt'),
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['questionnaireId'], referencedTableName: 'questionnaires', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
    await q.createIndex('answer_history', new TableIndex({ name: 'IDX_answer_history_question', columnNames: ['questionnaireId', 'questionId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('answer_history');
  }
}
