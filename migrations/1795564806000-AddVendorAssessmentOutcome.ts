import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/** The latest assessment's score, residual rating and decision, kept on the vendor for lists. */
export class AddVendorAssessmentOutcome1795564806000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('vendors', [
      new TableColumn({ name: 'lastScore', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'residualRating', type: 'varchar', length: '10', isNullable: true }),
      new TableColumn({ name: 'lastDecision', type: 'varchar', length: '10', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const c of ['lastScore', 'residualRating', 'lastDecision']) await q.dropColumn('vendors', c);
  }
}
