import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { systemActor } from '../audit/service';
import { DAY, ManualClock } from '../clock';
import { loadConfig } from '../config';
import { type Context, createContext } from '../context';
import { createDataSource, openDatabase } from '../db/data-source';
import { createLogger } from '../logger';
import { createTransport } from '../mail/delivery';
import { runSweep } from '../reminders/sweep';
import { Vendor } from '../vendors/entities';
import { generateSweepPortfolio } from './sweep-dataset';

/** What the benchmark reports about the reminder sweep. */
export type SweepFigures = { measured: false; note: string } | { measured: true; seconds: Record<string, number>; reminders: number; note: string };

/**
 * The reminder sweep's run time on the generated portfolio: a dry run (every rule's planning
 * queries) and a real sweep (planning plus writing each new reminder with its email). The figure
 * at 100,000 vendors needs a portfolio generated at that size (`--vendors 100000`).
 */
export async function measureReminderSweep(ctx: Context): Promise<SweepFigures> {
  const vendors = await ctx.ds.getRepository(Vendor).count();
  const t0 = performance.now();
  await runSweep(ctx, ctx.clock.now(), { dryRun: true });
  const t1 = performance.now();
  const real = await runSweep(ctx, ctx.clock.now());
  const t2 = performance.now();
  return {
    measured: true,
    seconds: { [`plan (dry run) at ${vendors} vendors`]: (t1 - t0) / 1000, [`sweep at ${vendors} vendors`]: (t2 - t1) / 1000 },
    reminders: real.sent,
    note: `${real.sent} reminders written`,
  };
}

/** The sweep measured on a generated portfolio of one size (see sweep-dataset.ts). */
export interface SweepAtScale {
  vendors: number;
  generationSeconds: number;
  /** Every rule's planning, nothing written. */
  planSeconds: number;
  /** The first sweep on the portfolio: what fell due over the generated history (a catch-up). */
  firstSweepSeconds: number;
  firstSweepReminders: number;
  /** The next day's sweep: the daily figure, planning over the whole portfolio plus that day's reminders. */
  dailySweepSeconds: number;
  dailySweepReminders: number;
}

/**
 * Times the reminder sweep on a portfolio of `vendors` vendors holding only what the rules read, in
 * a database of its own (a temporary SQLite file, or a PostgreSQL database created beside the one
 * DATABASE_URL names and dropped afterwards): planning alone, a first sweep, and the next day's.
 */
export async function measureSweepAtScale(env: NodeJS.ProcessEnv, vendors: number): Promise<SweepAtScale> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-sweep-'));
  let dropDatabase: (() => Promise<void>) | undefined;
  let databaseUrl: string | undefined;
  if (env.DATABASE_URL) {
    const created = await createPostgresDatabase(env.DATABASE_URL, `sweep_${vendors}`);
    databaseUrl = created.url;
    dropDatabase = created.drop;
  }
  const config = loadConfig({ ...env, DATA_DIR: dataDir, DATABASE_URL: databaseUrl ?? '', LOG_LEVEL: 'silent', BASE_URL: 'http://localhost:3000', TRUST_PROXY: 'false', SMTP_URL: '', SECRET_KEY: '' });
  const ds = createDataSource(config.database);
  try {
    await openDatabase(ds);
    const clock = new ManualClock(`${new Date().toISOString().slice(0, 10)}T08:00:00.000Z`);
    const ctx = createContext({ config, ds, clock, logger: createLogger('silent'), transport: createTransport(undefined, dataDir) });
    const owners: number[] = [];
    for (const role of ['admin', 'procurement', 'legal', 'reviewer', 'procurement'] as const) {
      const { user } = await ctx.accounts.inviteUser(systemActor('bench'), { email: `sweep-${role}-${owners.length}@oversight.example`, name: `Sweep ${role} ${owners.length}`, role }, { sendEmail: false });
      owners.push(user.id);
    }
    const g0 = performance.now();
    await generateSweepPortfolio(ctx, vendors, owners);
    const t0 = performance.now();
    await runSweep(ctx, clock.now(), { dryRun: true });
    const t1 = performance.now();
    const first = await runSweep(ctx, clock.now());
    const t2 = performance.now();
    clock.advance(DAY);
    const daily = await runSweep(ctx, clock.now());
    const t3 = performance.now();
    if (!first.ran || !daily.ran) throw new Error('the sweep lease was held by another holder');
    if (first.failed || daily.failed) throw new Error(`${first.failed + daily.failed} reminders failed to be written`);
    const s = (ms: number) => Math.round(ms / 10) / 100;
    return { vendors, generationSeconds: s(t0 - g0), planSeconds: s(t1 - t0), firstSweepSeconds: s(t2 - t1), firstSweepReminders: first.sent, dailySweepSeconds: s(t3 - t2), dailySweepReminders: daily.sent };
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await dropDatabase?.();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A fresh PostgreSQL database beside the one the URL names (which stays untouched). */
async function createPostgresDatabase(serverUrl: string, suffix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const url = new URL(serverUrl);
  const name = `${url.pathname.slice(1) || 'oversight'}_${suffix}_${crypto.randomBytes(3).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
