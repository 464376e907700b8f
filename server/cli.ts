import { parseArgs } from 'node:util';
import { ROLES, type Role } from './accounts/entities';
import { BackupError, createBackup, KEY_WARNING, restoreBackup } from './backup/archive';
import { systemActor } from './audit/service';
import { systemClock } from './clock';
import { ConfigError, loadConfig } from './config';
import { createContext } from './context';
import { createDataSource, openDatabase } from './db/data-source';
import { HttpError } from './errors';
import { createLogger } from './logger';
import { createTransport } from './mail/delivery';
import { seedDemo } from './demo';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  migrate                                   apply pending database migrations
  demo                                      add the demo vendor portfolio (safe to run again)
  create-user --email E --name N --role R   create a user and print a one-time link to set the password
                                            (roles: ${ROLES.join(', ')})
  backup --out FILE                         write the SQLite database and the stored files to one archive
                                            (online: the portal may keep running; the key is NOT included)
  restore FILE [--force]                    restore an archive into an empty DATA_DIR (--force replaces
                                            an existing database, keeping it beside as a .replaced file)
`;

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** The command-line tool for operators: `npm run cli -- <command>`. */
async function cli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    out(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig();
  // Backup and restore work on the files as they are: no migration runs before them.
  if (command === 'backup' || command === 'restore') return backupCommand(command, rest, config);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const ds = createDataSource(config.database);
  try {
    const applied = await openDatabase(ds);
    if (command === 'migrate') {
      out(applied.length ? `Applied: ${applied.join(', ')}` : 'The database schema is current.');
      return 0;
    }
    const ctx = createContext({ config, ds, clock: systemClock, logger, transport: createTransport(config.smtpUrl, config.dataDir) });
    if (command === 'demo') {
      const { created, skipped } = await seedDemo(ctx);
      out(`Demo data: ${created} vendors added${skipped ? `, ${skipped} already present` : ''}.`);
      return 0;
    }
    if (command === 'create-user') {
      const { values } = parseArgs({ args: rest, options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } } });
      const missing = (['email', 'name', 'role'] as const).filter((k) => !values[k]);
      if (missing.length) {
        process.stderr.write(`create-user: missing --${missing.join(', --')}\n\n${USAGE}`);
        return 2;
      }
      if (!ROLES.includes(values.role as Role)) {
        process.stderr.write(`create-user: --role must be one of ${ROLES.join(', ')}\n`);
        return 2;
      }
      const { inviteSchema } = await import('./accounts/schema');
      const parsed = inviteSchema.safeParse(values);
      if (!parsed.success) {
        process.stderr.write(`create-user: ${parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')}\n`);
        return 2;
      }
      const { user, link, expiresAt } = await ctx.accounts.inviteUser(systemActor('cli'), parsed.data, { sendEmail: false });
      out(`Created ${user.email} (${user.role}). Send them this one-time link to set a password (expires ${expiresAt.toISOString()}):`);
      out(link);
      return 0;
    }
    process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
    return 2;
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}

/** `backup --out FILE` and `restore FILE [--force]`. */
async function backupCommand(command: 'backup' | 'restore', rest: string[], config: ReturnType<typeof loadConfig>): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' }, force: { type: 'boolean' } } });
  } catch (err) {
    process.stderr.write(`${command}: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (command === 'backup') {
    if (!values.out || positionals.length > 0 || values.force) {
      process.stderr.write(`backup: give the archive to write with --out FILE (and nothing else)\n\n${USAGE}`);
      return 2;
    }
    const r = await createBackup(config, values.out);
    out(`Backup written to ${r.file} (${r.entries} files, ${(r.bytes / 1024 / 1024).toFixed(1)} MB).`);
    process.stderr.write(`\nWARNING: ${KEY_WARNING}\n`);
    return 0;
  }
  if (positionals.length !== 1 || values.out) {
    process.stderr.write(`restore: give exactly one archive file, such as: npm run cli -- restore backup.zip\n\n${USAGE}`);
    return 2;
  }
  const r = await restoreBackup(config, positionals[0]!, { force: values.force });
  out(`Restored ${r.entries} files into ${config.dataDir}.${r.replaced ? ` The previous database was kept as ${r.replaced}.` : ''} Migrations run at the next start (or: npm run migrate).`);
  return 0;
}

cli(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    if (err instanceof BackupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof ConfigError || err instanceof HttpError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err instanceof ConfigError ? 1 : 2);
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
