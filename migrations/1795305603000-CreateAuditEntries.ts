import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { col } from '../server/db/columns';

/** The audit trail, append-only: the database itself refuses UPDATE and DELETE on it. */
export class CreateAuditEntries1795305603000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'audit_entries',
        columns: [
          col.id(),
          col.timestamp('at'),
          col.varchar('actorType', 16),
          col.int('actorId', { isNullable: true }),
          col.varchar('actorLabel', 300),
          col.varchar('action', 64),
          col.varchar('entityType', 40, { isNullable: true }),
          col.varchar('entityId', 64, { isNullable: true }),
          col.text('changes', { isNullable: true }),
          col.text('details', { isNullable: true }),
          col.varchar('ip', 64, { isNullable: true }),
        ],
      }),
    );
    await q.createIndex('audit_entries', new TableIndex({ name: 'IDX_audit_at', columnNames: ['at'] }));
    await q.createIndex('audit_entries', new TableIndex({ name: 'IDX_audit_action', columnNames: ['action'] }));
    await q.createIndex('audit_entries', new TableIndex({ name: 'IDX_audit_entity', columnNames: ['entityType', 'entityId', 'at'] }));
    await q.createIndex('audit_entries', new TableIndex({ name: 'IDX_audit_actor', columnNames: ['actorId', 'at'] }));

    if (q.connection.options.type === 'postgres') {
      await q.query(`CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END; $$ LANGUAGE plpgsql`);
      await q.query(`CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()`);
    } else {
      for (const op of ['UPDATE', 'DELETE']) {
        await q.query(`CREATE TRIGGER audit_entries_no_${op.toLowerCase()} BEFORE ${op} ON audit_entries
          BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`);
      }
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_entries');
    if (q.connection.options.type === 'postgres') await q.query('DROP FUNCTION IF EXISTS audit_entries_append_only()');
  }
}
