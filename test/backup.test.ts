import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { systemActor } from '../server/audit/service';
import { BackupError, createBackup, restoreBackup } from '../server/backup/archive';
import { loadConfig } from '../server/config';
import { EvidenceFile } from '../server/questionnaires/entities';
import { Vendor } from '../server/vendors/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { makeVendor } from './helpers/http';

const run = promisify(execFile);
const CLI = path.join(__dirname, '..', 'server', 'cli.js');
const SECRET_KEY = crypto.randomBytes(24).toString('hex');
const onPostgres = Boolean(process.env.DATABASE_URL);

/** Runs `npm run cli -- …` as an operator would (the compiled CLI), returning its exit code and output. */
async function cli(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function readEvidence(t: TestApp, storedName: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await t.ctx.evidence.pipeTo(storedName, new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) }));
  return Buffer.concat(chunks);
}

describe('Backup and restore', { skip: onPostgres ? 'SQLite only; the PostgreSQL refusal is tested below' : false }, () => {
  let t: TestApp;
  let work: string;
  let archive: string;
  let vendorName: string;
  let evidence: { storedName: string; bytes: Buffer };

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-backup-'));
    t = await createTestApp({ env: { SECRET_KEY } });
    // Arrange: a vendor, a questionnaire sent to its contact, and evidence uploaded through the portal's service.
    const vendor = await makeVendor(t);
    vendorName = vendor.legalName;
    const contact = await t.ctx.vendors.addContact(systemActor('test'), vendor.id, { name: 'Vera Vendor', email: 'vera@vendor.example', isSecurityContact: true });
    const { questionnaire } = await t.ctx.questionnaires.send(systemActor('test'), { vendorId: vendor.id, contactId: contact.id, templateId: 'ma-201-cmr-17-due-diligence' });
    const q = await t.ctx.questionnaires.get(questionnaire.id);
    const section = q.snapshot.sections.find((s) => s.id === 'written-program')!;
    const bytes = Buffer.from(`%PDF-1.4\n${crypto.randomBytes(2048).toString('base64')}\n%%EOF\n`);
    const { errors } = await t.ctx.questionnaires.saveSection(
      { type: 'vendor_link', id: null, label: 'vera@vendor.example', ip: null },
      q,
      section,
      { present__wisp_maintained: '1', a__wisp_maintained: 'yes' },
      [{ questionId: 'wisp_upload', originalName: 'wisp.pdf', buffer: bytes }],
      null,
    );
    assert.deepEqual(errors, {});
    const row = await t.ctx.ds.getRepository(EvidenceFile).findOneByOrFail({ questionnaireId: q.id });
    evidence = { storedName: row.storedName, bytes };
  });
  after(async () => {
    await t.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('When an operator backs up with the CLI, then one archive is written and the key warning is printed', async () => {
    archive = path.join(work, 'oversight-backup.zip');
    const res = await cli(t.env, ['backup', '--out', archive]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Backup written to .*oversight-backup\.zip/);
    assert.match(res.stderr, /WARNING: .*does NOT contain the key \(SECRET_KEY, or the file secret\.key/);
    assert.ok(fs.statSync(archive).size > 2048);
    const again = await cli(t.env, ['backup', '--out', archive]);
    assert.equal(again.code, 2, 'an existing archive is never overwritten');
    assert.match(again.stderr, /already exists/);
  });

  test('When the archive is restored into a new DATA_DIR with the same key, then the portal reads the same evidence bytes', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-restored-'));
    const config = loadConfig({ DATA_DIR: dataDir, SECRET_KEY, LOG_LEVEL: 'silent' });
    const restored = await restoreBackup(config, archive);
    assert.equal(restored.replaced, null);
    const t2 = await createTestApp({ dataDir, env: { SECRET_KEY } });
    try {
      assert.ok(await t2.ctx.ds.getRepository(Vendor).findOneBy({ legalName: vendorName }));
      const row = await t2.ctx.ds.getRepository(EvidenceFile).findOneByOrFail({ storedName: evidence.storedName });
      const bytes = await readEvidence(t2, row.storedName);
      assert.ok(bytes.equals(evidence.bytes), 'the restored evidence decrypts to the uploaded bytes');
      assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), row.sha256);
    } finally {
      await t2.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('When a database is already there, then restore refuses unless --force, which keeps the old one', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-restored-'));
    const env = { DATA_DIR: dataDir, SECRET_KEY, LOG_LEVEL: 'silent' };
    try {
      assert.equal((await cli(env, ['restore', archive])).code, 0);
      const refused = await cli(env, ['restore', archive]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /already holds a database .* --force/);
      const forced = await cli(env, ['restore', archive, '--force']);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /previous database was kept as .*oversight\.sqlite\.replaced-/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('When the key in place is another one, then restore refuses and says to put the original key back', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-restored-'));
    try {
      const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }); // a freshly generated key file
      await assert.rejects(restoreBackup(config, archive), (err: Error) => err instanceof BackupError && /different secret key/.test(err.message));
      assert.equal(fs.existsSync(path.join(dataDir, 'oversight.sqlite')), false, 'nothing was restored');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('When the archive is not a backup or was altered, then restore refuses and restores nothing', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-restored-'));
    try {
      const config = loadConfig({ DATA_DIR: dataDir, SECRET_KEY, LOG_LEVEL: 'silent' });
      const junk = path.join(work, 'junk.zip');
      fs.writeFileSync(junk, 'not a zip at all');
      await assert.rejects(restoreBackup(config, junk), /not a valid Oversight backup: not a readable ZIP/);
      // Flip one byte inside a stored (uncompressed or compressed) entry: its hash no longer matches.
      const tampered = path.join(work, 'tampered.zip');
      const bytes = fs.readFileSync(archive);
      bytes[Math.floor(bytes.length / 3)] ^= 0xff;
      fs.writeFileSync(tampered, bytes);
      await assert.rejects(restoreBackup(config, tampered), /not a valid Oversight backup/);
      await assert.rejects(restoreBackup(config, path.join(work, 'missing.zip')), /does not exist/);
      assert.equal(fs.existsSync(path.join(dataDir, 'oversight.sqlite')), false);
      assert.deepEqual(fs.readdirSync(dataDir).filter((n) => n.startsWith('.restore-')), [], 'the staging folder is removed');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('When the CLI is given bad arguments, then it says what is expected and exits non-zero', async () => {
    const noOut = await cli(t.env, ['backup']);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--out FILE/);
    const noFile = await cli(t.env, ['restore']);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /exactly one archive file/);
  });
});

describe('Backup on PostgreSQL', () => {
  test('When DATABASE_URL names PostgreSQL, then backup and restore refuse and point to pg_dump and the README', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-pg-'));
    try {
      const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://u:p@127.0.0.1:1/none', SECRET_KEY, LOG_LEVEL: 'silent' });
      await assert.rejects(createBackup(config, path.join(dataDir, 'b.zip')), (err: Error) => err instanceof BackupError && /pg_dump/.test(err.message) && /README\.md/.test(err.message));
      await assert.rejects(restoreBackup(config, path.join(dataDir, 'b.zip')), /pg_restore/);
      const res = await cli({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://u:p@127.0.0.1:1/none', SECRET_KEY }, ['backup', '--out', path.join(dataDir, 'b.zip')]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /pg_dump/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
