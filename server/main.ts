import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { systemClock } from './clock';
import { ConfigError, loadConfig } from './config';
import { createContext } from './context';
import { createDataSource, openDatabase } from './db/data-source';
import { createLogger } from './logger';
import { createTransport } from './mail/delivery';
import { runSweep } from './reminders/sweep';
import { startScheduler } from './scheduler';

const SHUTDOWN_GRACE_MS = 10_000;

/** Starts the portal: config -> database -> migrations -> listen -> scheduler. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection');
    process.exit(1);
  });

  const ds = createDataSource(config.database);
  const applied = await openDatabase(ds);
  logger.info({ database: config.database.type, applied }, applied.length ? 'migrations applied' : 'database schema is current');

  const ctx = createContext({ config, ds, clock: systemClock, logger, transport: createTransport(config.smtpUrl, config.dataDir) });
  const recomputed = await ctx.vendors.applyIntervals();
  if (recomputed > 0) logger.info({ vendors: recomputed }, 'next reassessment dates recomputed for the configured intervals');
  const app = createApp(ctx);
  const server = app.listen(config.port);
  let scheduler: { stop(): Promise<void> } | null = null;

  // Handlers first: a SIGTERM that arrives while the portal is still starting stops it cleanly too.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.warn('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    await scheduler?.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await ctx.mail.close();
    await ds.destroy();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;

  const setupLink = await ctx.accounts.issueSetupLink();
  if (setupLink) {
    logger.warn(`No user exists yet. Create the first administrator here (the link works once): ${setupLink}`);
  }
  if (!stopping) {
    scheduler = startScheduler(ctx);
    ctx.mail.kick();
    // Catch up on reminders that fell due while the portal was down (each is sent once whatever happens).
    void runSweep(ctx, systemClock.now()).catch((err: unknown) => logger.error({ err }, 'start-up reminder sweep failed'));
  }
  logger.info({ port, baseUrl: config.baseUrl, mail: ctx.mail.transportKind }, `Oversight is listening on port ${port}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`Oversight failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
