import { type MigrationInterface, type QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

/** Written certifications asked of vendors: the text as requested and, once signed, the signature record. */
export class CreateCertifications1795737600000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'certifications',
        columns: [
          col.id(),
          col.int('vendorId'),
          col.int('contactId', { isNullable: true }),
          col.varchar('recipientName', 200),
          col.varchar('recipientEmail', 254),
          col.varchar('templateId', 64),
          col.int('templateVersion'),
          col.varchar('templateHash', 64),
          col.varchar('purpose', 16),
          col.varchar('title', 200),
          col.text('statement'),
          col.varchar('textSha256', 64),
          col.int('validityMonths', { isNullable: true }),
          col.varchar('status', 12),
          col.varchar('dueDate', 10),
          col.int('questionnaireId', { isNullable: true }),
          col.int('requestedById', { isNullable: true }),
          col.timestamp('requestedAt'),
          col.varchar('signerName', 200, { isNullable: true }),
          col.varchar('signerTitle', 200, { isNullable: true }),
          col.varchar('signerCompany', 300, { isNullable: true }),
          col.varchar('signature', 200, { isNullable: true }),
          col.varchar('method', 8, { isNullable: true }),
          col.timestamp('signedAt', { isNullable: true }),
          col.varchar('signedIp', 64, { isNullable: true }),
          col.varchar('signedUserAgent', 500, { isNullable: true }),
          col.int('signedLinkId', { isNullable: true }),
          col.varchar('expiresOn', 10, { isNullable: true }),
          col.varchar('fileName', 255, { isNullable: true }),
          col.varchar('storedName', 80, { isNullable: true }),
          col.int('fileSize', { isNullable: true }),
          col.varchar('fileSha256', 64, { isNullable: true }),
          col.int('confirmedById', { isNullable: true }),
          col.timestamp('confirmedAt', { isNullable: true }),
          col.text('declineReason', { isNullable: true }),
          col.timestamp('declinedAt', { isNullable: true }),
          col.text('revokeReason', { isNullable: true }),
          col.timestamp('revokedAt', { isNullable: true }),
          col.varchar('sealSha256', 64, { isNullable: true }),
          col.timestamp('createdAt'),
          col.timestamp('updatedAt'),
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['vendorId'], referencedTableName: 'vendors', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['contactId'], referencedTableName: 'vendor_contacts', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['questionnaireId'], referencedTableName: 'questionnaires', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['requestedById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
          new TableForeignKey({ columnNames: ['confirmedById'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'SET NULL' }),
        ],
      }),
    );
    await q.createIndex('certifications', new TableIndex({ name: 'IDX_certifications_vendor', columnNames: ['vendorId'] }));
    await q.createIndex('certifications', new TableIndex({ name: 'IDX_certifications_template', columnNames: ['templateId'] }));
    await q.createIndex('certifications', new TableIndex({ name: 'IDX_certifications_purpose', columnNames: ['purpose'] }));
    await q.createIndex('certifications', new TableIndex({ name: 'IDX_certifications_expires', columnNames: ['expiresOn'] }));
    await q.createIndex('certifications', new TableIndex({ name: 'IDX_certifications_status_expires', columnNames: ['status', 'expiresOn'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('certifications');
  }
}
