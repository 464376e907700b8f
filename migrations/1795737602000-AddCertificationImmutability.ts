import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A signed certification never changes: the database itself refuses to update or delete a row whose
 * status is "signed", so not even a bug or a hand-written query can alter what a vendor signed.
 */
export class AddCertificationImmutability1795737602000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    if (q.connection.options.type === 'postgres') {
      await q.query(`CREATE FUNCTION certifications_signed_immutable() RETURNS trigger AS $$
        BEGIN
          IF OLD.status = 'signed' THEN RAISE EXCEPTION 'a signed certification never changes'; END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END; $$ LANGUAGE plpgsql`);
      await q.query(`CREATE TRIGGER certifications_signed_immutable BEFORE UPDATE OR DELETE ON certifications
        FOR EACH ROW EXECUTE FUNCTION certifications_signed_immutable()`);
    } else {
      for (const op of ['UPDATE', 'DELETE']) {
        await q.query(`CREATE TRIGGER certifications_signed_no_${op.toLowerCase()} BEFORE ${op} ON certifications
          WHEN OLD.status = 'signed'
          BEGIN SELECT RAISE(ABORT, 'a signed certification never changes'); END`);
      }
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (q.connection.options.type === 'postgres') {
      await q.query('DROP TRIGGER IF EXISTS certifications_signed_immutable ON certifications');
      await q.query('DROP FUNCTION IF EXISTS certifications_signed_immutable()');
    } else {
      for (const op of ['update', 'delete']) await q.query(`DROP TRIGGER IF EXISTS certifications_signed_no_${op}`);
    }
  }
}
