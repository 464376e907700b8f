import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { Client } from 'pg';
import { type AppOptions, createApp } from '../../server/app';
import { ManualClock } from '../../server/clock';
import { type Config, loadConfig } from '../../server/config';
import { type Context, createContext } from '../../server/context';
import { createDataSource, openDatabase } from '../../server/db/data-source';
import { createLogger, type Logger } from '../../server/logger';
import { createTransport } from '../../server/mail/delivery';
import type { SmtpListener } from './smtp';

export interface TestApp {
  app: Express;
  ctx: Context;
  clock: ManualClock;
  config: Config;
  /** The environment the config was read from, for spawning the CLI against the same database. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  smtp?: SmtpListener;
  env?: Record<string, string>;
  app?: AppOptions;
  /** Reuse a data folder (and its SQLite file) instead of a fresh one. */
  dataDir?: string;
  /** A folder of questionnaire templates instead of the shipped one. */
  templatesDir?: string;
  /** A clause catalogue file instead of the shipped clauses/catalogue.yaml. */
  clauseCatalogueFile?: string;
  /** A logger to inspect; silent by default. */
  logger?: Logger;
}

/**
 * The portal on a fresh database built by the real migrations: a new SQLite file in a temporary
 * folder, or, when DATABASE_URL names PostgreSQL, a new database created for this test file.
 */
export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-test-'));
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    BASE_URL: 'http://portal.test',
    LOG_LEVEL: 'silent',
    ...(opts.smtp ? { SMTP_URL: opts.smtp.url } : {}),
    ...opts.env,
  };
  let dropDatabase: (() => Promise<void>) | undefined;
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl && !env.DATABASE_URL) {
    const created = await createPostgresDatabase(serverUrl);
    env.DATABASE_URL = created.url;
    dropDatabase = created.drop;
  }
  const config = loadConfig(env);
  const ds = createDataSource(config.database);
  await openDatabase(ds);
  const clock = new ManualClock('2026-03-02T09:00:00.000Z');
  const ctx = createContext({ config, ds, clock, logger: opts.logger ?? createLogger('silent'), transport: createTransport(config.smtpUrl, config.dataDir), templatesDir: opts.templatesDir, clauseCatalogueFile: opts.clauseCatalogueFile });
  const app = createApp(ctx, opts.app);
  return {
    app,
    ctx,
    clock,
    config,
    env,
    close: async () => {
      await ctx.mail.deliverDue().catch(() => undefined);
      await ctx.mail.close();
      if (ds.isInitialized) await ds.destroy();
      await dropDatabase?.();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function createPostgresDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `oversight_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
