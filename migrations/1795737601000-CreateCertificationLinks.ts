import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

/** Every link issued for a certification: only the token's SHA-256 (and the token encrypted for re-sending). */
export class CreateCertificationLinks1795737601000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'certification_links',
        columns: [
          col.id(),
          col.int('certificationId'),
          col.varchar('tokenHash', 64),
          col.text('tokenEncrypted', { isNullable: true }),
          col.timestamp('issuedAt'),
          col.timestamp('expiresAt'),
          col.timestamp('replacedAt', { isNullable: true }),
          col.timestamp('revokedAt', { isNullable: true }),
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['certificationId'], referencedTableName: 'certifications', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
    await q.createIndex('certification_links', new TableIndex({ name: 'IDX_certification_links_hash', columnNames: ['tokenHash'], isUnique: true }));
    await q.createIndex('certification_links', new TableIndex({ name: 'IDX_certification_links_certification', columnNames: ['certificationId'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('certification_links');
  }
}
