import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

export class CreateFindings1795564800000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'findings',
        columns: [
          col.id(),
          col.int('vendorId'),
          col.int('questionnaireId', { isNullable: true }),
          col.varchar('questionId', 64, { isNullable: true }),
          col.varchar('ruleKey', 80, { isNullable: true }),
          col.varchar('source', 12),
          col.varchar('title', 300),
          col.varchar('severity', 10),
          col.varchar('citation', 300),
          col.text('description', { isNullable: true }),
          col.text('answerText', { isNullable: true }),
          col.int('ownerId', { isNullable: true }),
          col.varchar('remediatedBy', 10),
          col.text('remediationPlan', { isNullable: true }),
          col.varchar('dueDate', 10, { isNullable: true }),
          col.varchar('status', 20),
          col.int('riskAcceptedById', { isNullable: true }),
          col.text('riskAcceptanceReason', { isNullable: true }),
          col.varchar('riskAcceptanceExpiresOn', 10, { isNullable: true }),
          col.int('createdById', { isNullable: true }),
          col.timestamp('createdAt'),
          col.timestamp('updatedAt'),
          col.timestamp('closedAt', { isNullable: true }),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['vendorId'], referencedTableName: 'vendors', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['questionnaireId'], referencedTableName: 'questionnaires', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['ownerId'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['riskAcceptedById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['createdById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('findings', new TableIndex({ name: 'IDX_findings_vendor', columnNames: ['vendorId'] }));
    await q.createIndex('findings', new TableIndex({ name: 'IDX_findings_questionnaire', columnNames: ['questionnaireId'] }));
    await q.createIndex('findings', new TableIndex({ name: 'IDX_findings_severity', columnNames: ['severity'] }));
    await q.createIndex('findings', new TableIndex({ name: 'IDX_findings_status', columnNames: ['status'] }));
    await q.createIndex('findings', new TableIndex({ name: 'IDX_findings_due', columnNames: ['dueDate'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('findings');
  }
}
