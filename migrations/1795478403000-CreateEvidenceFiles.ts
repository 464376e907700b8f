import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateEvidenceFiles1795478403000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'questionnaire_files',
        columns: [
          col.id(),
          col.int('questionnaireId'),
          col.varchar('questionId', 64),
          col.varchar('fileName', 255),
          col.varchar('storedName', 80),
          col.varchar('mediaType', 100),
          col.int('size'),
          col.varchar('sha256', 64),
          col.timestamp('uploadedAt'),
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['questionnaireId'], referencedTableName: 'questionnaires', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
    await q.createIndex('questionnaire_files', new TableIndex({ name: 'IDX_evidence_questionnaire', columnNames: ['questionnaireId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('questionnaire_files');
  }
}
