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
import { isIsoDate, localDate } from './dates';
import { runSweep } from './reminders/sweep';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  migrate                                   apply pending database migrations
  demo                                      add the demo vendor portfolio (safe to run again)
  create-user --email E --name N --role R   create a user and print a one-time link to set the password
                                            (roles: ${ROLES.join(', ')})
  reminders [--dry-run] [--at YYYY-MM-DD]   run the reminder sweep now; with --dry-run print what would be
                                            sent and change nothing (--at: as on that day)
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
    if (command === 'reminders') {
      const { values } = parseArgs({ args: rest, options: { 'dry-run': { type: 'boolean' }, at: { type: 'string' } } });
      const dryRun = values['dry-run'] === true;
      if (values.at !== undefined && !isIsoDate(values.at)) {
        process.stderr.write('reminders: --at must be a date as YYYY-MM-DD\n');
        return 2;
      }
      if (values.at !== undefined && !dryRun) {
        process.stderr.write('reminders: --at is only for --dry-run (a real sweep always runs as of today)\n');
        return 2;
      }
      const now = values.at ? instantOn(values.at, config.reminders.timeZone) : systemClock.now();
      const result = await runSweep(ctx, now, { dryRun });
      if (!result.ran) {
        out('Another instance is running the reminder sweep; nothing was done.');
        return 1;
      }
      out(`${dryRun ? 'Would send' : 'Sent'} ${result.planned.length} reminder${result.planned.length === 1 ? '' : 's'} for ${result.date} (${config.reminders.timeZone}):`);
      for (const p of result.planned) out(`  [${p.rule}] to ${p.recipient.email}: ${p.summary}`);
      if (!dryRun) out(`Written: ${result.sent}; skipped: ${result.skipped}; failed: ${result.failed}; digests: ${result.digests}.`);
      if (!dryRun && (result.sent || result.digests)) await ctx.mail.deliverDue();
      return result.failed ? 1 : 0;
    }
    process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
    return 2;
  } finally {
    if (ds.isInitialized) await ds.destroy();
  }
}

/** Noon of that day in the time zone (an instant whose local date is the day). */
function instantOn(date: string, timeZone: string): Date {
  let at = new Date(`${date}T12:00:00Z`);
  for (let i = 0; i < 2 && localDate(at, timeZone) !== date; i += 1) at = new Date(at.getTime() + (localDate(at, timeZone) < date ? 1 : -1) * 12 * 3_600_000);
  return at;
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
