import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/** A questionnaire's score, residual rating and the reviewer's decision. */
export class AddQuestionnaireOutcome1795564805000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('questionnaires', [
      new TableColumn({ name: 'score', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'residualRating', type: 'varchar', length: '10', isNullable: true }),
      new TableColumn({ name: 'decisionReason', type: 'text', isNullable: true }),
      new TableColumn({ name: 'decidedById', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'decidedAt', type: 'varchar', length: '24', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const c of ['score', 'residualRating', 'decisionReason', 'decidedById', 'decidedAt']) await q.dropColumn('questionnaires', c);
  }
}
