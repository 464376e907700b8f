import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateClarificationRounds1795564804000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'clarification_rounds',
        columns: [
          col.id(),
          col.int('questionnaireId'),
          col.int('round'),
          col.text('questions'),
          col.int('requestedById', { isNullable: true }),
          col.timestamp('requestedAt'),
          col.timestamp('respondedAt', { isNullable: true }),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['questionnaireId'], referencedTableName: 'questionnaires', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['requestedById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('clarification_rounds', new TableIndex({ name: 'IDX_clarification_rounds_questionnaire', columnNames: ['questionnaireId', 'round'], isUnique: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('clarification_rounds');
  }
}
