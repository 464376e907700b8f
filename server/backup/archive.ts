import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import sqlite3 from 'sqlite3';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { type Config, deriveKey } from '../config';

/**
 * Backup and restore of an SQLite installation as one ZIP archive: an online copy of the database
 * (VACUUM INTO, consistent while the portal keeps running) and the stored files under DATA_DIR
 * (evidence, contract documents, the local mail folder), with a manifest giving each entry's size
 * and SHA-256 and a fingerprint of the secret key. The key itself is never put in the archive.
 */

const FORMAT = 'oversight-backup';
const FORMAT_VERSION = 1;
const DATABASE_ENTRY = 'oversight.sqlite';
/** Folders of DATA_DIR that hold stored files; everything else there (the key, temp files) stays out. */
export const FILE_FOLDERS = ['evidence', 'contracts', 'mail'] as const;

export const KEY_WARNING =
  'The archive holds the evidence and contract files encrypted, and queued mail sealed, with the portal\'s secret key. ' +
  'It does NOT contain the key (SECRET_KEY, or the file secret.key in DATA_DIR): without that key the files cannot be read. ' +
  'Keep a copy of the key separately and safely, never next to the archive.';

/** A refused backup or restore; the message says why and what to do. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

interface Manifest {
  format: typeof FORMAT;
  version: number;
  createdAt: string;
  /** Identifies the secret key the files were encrypted with, without revealing it. */
  keyFingerprint: string;
  entries: { name: string; size: number; sha256: string }[];
}

/** A short one-way fingerprint of the secret key, to tell on restore whether the right key is in place. */
function keyFingerprint(config: Pick<Config, 'secretKey'>): string {
  return deriveKey(config, 'backup-key-fingerprint').toString('hex').slice(0, 16);
}

function refusePostgres(config: Config, what: 'backup' | 'restore'): void {
  if (config.database.type !== 'postgres') return;
  throw new BackupError(
    `${what} works on the embedded SQLite database only. With DATABASE_URL (PostgreSQL), ${what === 'backup' ? 'back up the database with pg_dump' : 'restore the database with pg_restore'} ` +
      'and copy the evidence, contracts and mail folders of DATA_DIR with your usual file backup; see "Operations" in README.md.',
  );
}

/**
 * Writes a backup archive to `outFile` (which must not exist yet) from the running or stopped
 * portal's DATA_DIR. Returns what was written.
 */
export async function createBackup(config: Config, outFile: string): Promise<{ file: string; entries: number; bytes: number }> {
  refusePostgres(config, 'backup');
  const dbFile = config.database.type === 'sqlite' ? config.database.file : '';
  if (!fs.existsSync(dbFile)) throw new BackupError(`There is no database to back up at ${dbFile}. Check DATA_DIR.`);
  const out = path.resolve(outFile);
  if (fs.existsSync(out)) throw new BackupError(`${out} already exists; give a new file name.`);
  await fsp.mkdir(path.dirname(out), { recursive: true });

  const staging = await fsp.mkdtemp(path.join(config.dataDir, '.backup-'));
  try {
    const copy = path.join(staging, DATABASE_ENTRY);
    await vacuumInto(dbFile, copy);
    const files: { name: string; file: string }[] = [{ name: DATABASE_ENTRY, file: copy }];
    for (const folder of FILE_FOLDERS) {
      for (const rel of await listFiles(path.join(config.dataDir, folder))) files.push({ name: `${folder}/${rel}`, file: path.join(config.dataDir, folder, rel) });
    }
    const manifest: Manifest = { format: FORMAT, version: FORMAT_VERSION, createdAt: new Date().toISOString(), keyFingerprint: keyFingerprint(config), entries: [] };
    for (const f of files) {
      const { size, sha256 } = await hashFile(f.file);
      manifest.entries.push({ name: f.name, size, sha256 });
    }
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), 'manifest.json');
    for (const f of files) zip.addFile(f.file, f.name);
    zip.end();
    const tmpOut = `${out}.partial`;
    await pipeline(zip.outputStream, fs.createWriteStream(tmpOut, { mode: 0o600, flags: 'wx' }));
    await fsp.rename(tmpOut, out);
    return { file: out, entries: files.length, bytes: (await fsp.stat(out)).size };
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/**
 * Restores an archive into DATA_DIR. Refuses when a database is already there (unless `force`,
 * which keeps the replaced database beside it), when the archive is not a valid backup (every
 * entry is checked against the manifest), or when the secret key in place is not the one the
 * files were encrypted with.
 */
export async function restoreBackup(config: Config, archive: string, opts: { force?: boolean } = {}): Promise<{ entries: number; replaced: string | null }> {
  refusePostgres(config, 'restore');
  const dbFile = config.database.type === 'sqlite' ? config.database.file : '';
  const file = path.resolve(archive);
  if (!fs.existsSync(file)) throw new BackupError(`${file} does not exist.`);
  const hasData = fs.existsSync(dbFile) || FILE_FOLDERS.some((f) => (fs.existsSync(path.join(config.dataDir, f)) ? fs.readdirSync(path.join(config.dataDir, f)).length > 0 : false));
  if (hasData && !opts.force) {
    throw new BackupError(`${config.dataDir} already holds a database or stored files. Restore into an empty DATA_DIR, or add --force to replace them (the current database is kept as a .replaced file).`);
  }

  const staging = await fsp.mkdtemp(path.join(config.dataDir, '.restore-'));
  try {
    const manifest = await extract(file, staging);
    if (manifest.keyFingerprint !== keyFingerprint(config)) {
      throw new BackupError(
        'This archive was made with a different secret key. Put the original key in place first (the same SECRET_KEY, or its secret.key file copied into DATA_DIR) and run restore again; with another key the evidence cannot be read.',
      );
    }
    await checkDatabase(path.join(staging, DATABASE_ENTRY));

    let replaced: string | null = null;
    if (fs.existsSync(dbFile)) {
      replaced = `${dbFile}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await fsp.rename(dbFile, replaced);
    }
    for (const suffix of ['-wal', '-shm']) await fsp.rm(`${dbFile}${suffix}`, { force: true });
    await fsp.rename(path.join(staging, DATABASE_ENTRY), dbFile);
    for (const folder of FILE_FOLDERS) {
      const target = path.join(config.dataDir, folder);
      const from = path.join(staging, folder);
      if (!fs.existsSync(from)) continue;
      await fsp.mkdir(target, { recursive: true, mode: 0o700 });
      for (const rel of await listFiles(from)) {
        await fsp.mkdir(path.dirname(path.join(target, rel)), { recursive: true, mode: 0o700 });
        await fsp.rename(path.join(from, rel), path.join(target, rel));
      }
    }
    return { entries: manifest.entries.length, replaced };
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/** An online, consistent copy of the database in one statement (SQLite 3.27+); the source stays open to others. */
function vacuumInto(source: string, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(source, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(new BackupError(`Cannot open the database ${source}: ${err.message}`));
      db.configure('busyTimeout', 5000);
      db.run('VACUUM INTO ?', [target], (runErr) => db.close(() => (runErr ? reject(new BackupError(`The database copy failed: ${runErr.message}`)) : resolve())));
    });
  });
}

/** Opens a restored database file and runs SQLite's quick check on it. */
function checkDatabase(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(new BackupError(`The archive's database cannot be opened: ${err.message}`));
      db.all('PRAGMA quick_check', (checkErr, rows: { quick_check: string }[]) =>
        db.close(() => (checkErr || rows?.[0]?.quick_check !== 'ok' ? reject(new BackupError(`The archive's database is damaged: ${checkErr?.message ?? rows?.[0]?.quick_check}`)) : resolve())),
      );
    });
  });
}

/** Extracts every entry into `dir`, checking names, sizes and hashes against the manifest. */
async function extract(archive: string, dir: string): Promise<Manifest> {
  const invalid = (why: string) => new BackupError(`${archive} is not a valid Oversight backup: ${why}.`);
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(archive, { lazyEntries: true, autoClose: false }, (err, z) => (err || !z ? reject(err) : resolve(z))));
  } catch (err) {
    throw invalid(`not a readable ZIP archive (${(err as Error).message})`);
  }
  try {
    return await readArchive(zip, dir, invalid);
  } catch (err) {
    // A damaged entry fails in the decompressor or the ZIP reader: report it as an invalid archive.
    if (err instanceof BackupError) throw err;
    throw invalid(`it cannot be read (${(err as Error).message})`);
  } finally {
    zip.close();
  }
}

async function readArchive(zip: yauzl.ZipFile, dir: string, invalid: (why: string) => BackupError): Promise<Manifest> {
  {
    const entries: yauzl.Entry[] = await new Promise((resolve, reject) => {
      const all: yauzl.Entry[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        all.push(e);
        zip.readEntry();
      });
      zip.on('end', () => resolve(all));
      zip.on('error', reject);
      zip.readEntry();
    });
    const manifestEntry = entries.find((e) => e.fileName === 'manifest.json');
    if (!manifestEntry) throw invalid('it has no manifest.json');
    let manifest: Manifest;
    try {
      manifest = JSON.parse((await readEntry(zip, manifestEntry)).toString('utf8')) as Manifest;
    } catch {
      throw invalid('its manifest cannot be read');
    }
    if (manifest.format !== FORMAT || manifest.version !== FORMAT_VERSION || !Array.isArray(manifest.entries)) throw invalid(`its manifest is not format ${FORMAT} version ${FORMAT_VERSION}`);
    if (!manifest.entries.some((e) => e.name === DATABASE_ENTRY)) throw invalid('it holds no database');
    const expected = new Map(manifest.entries.map((e) => [e.name, e]));
    const seen = new Set<string>();
    for (const e of entries) {
      if (e.fileName === 'manifest.json') continue;
      const want = expected.get(e.fileName);
      if (!want || !safeEntryName(e.fileName)) throw invalid(`unexpected entry ${JSON.stringify(e.fileName)}`);
      const target = path.join(dir, e.fileName);
      await fsp.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      const hash = crypto.createHash('sha256');
      let size = 0;
      const stream = await openEntry(zip, e);
      stream.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      await pipeline(stream, fs.createWriteStream(target, { mode: 0o600 }));
      if (size !== want.size || hash.digest('hex') !== want.sha256) throw invalid(`${e.fileName} does not match its manifest (altered or truncated)`);
      seen.add(e.fileName);
    }
    const missing = manifest.entries.filter((e) => !seen.has(e.name));
    if (missing.length) throw invalid(`${missing.length} file(s) of its manifest are missing, such as ${missing[0]!.name}`);
    return manifest;
  }
}

/** Only the database and files in the known folders, with no way out of the folder. */
function safeEntryName(name: string): boolean {
  if (name === DATABASE_ENTRY) return true;
  const parts = name.split('/');
  return parts.length >= 2 && (FILE_FOLDERS as readonly string[]).includes(parts[0]!) && parts.every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\\'));
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream & import('node:stream').Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err || !stream ? reject(err) : resolve(stream))));
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await openEntry(zip, entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Files under a folder, as paths relative to it (none when it does not exist); temp files left out. */
async function listFiles(dir: string): Promise<string[]> {
  if (!fs.existsSync(dir)) return [];
  const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.endsWith('.tmp'))
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)).split(path.sep).join('/'))
    .sort();
}
