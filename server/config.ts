import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { ROOT_DIR } from './paths';
import { DEFAULT_INTERVALS, type ReassessmentIntervals } from './vendors/risk';

/**
 * The portal's configuration. This module is the only reader of the environment: every setting
 * has a documented default, is validated at start, and a bad value stops the start with a message
 * that names the variable.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One entry per environment variable: its schema and the sentence the README repeats. */
export const CONFIG_DOC = {
  PORT: 'TCP port the portal listens on.',
  DATA_DIR: 'Folder for the SQLite database, the generated secret key, stored files and the local mail outbox.',
  DATABASE_URL: 'Unset: an SQLite file in DATA_DIR. `postgres://user:pass@host:5432/db`: PostgreSQL.',
  BASE_URL: 'Public address of the portal, used in links sent by email; `https://` also marks cookies Secure.',
  SMTP_URL: 'Unset: mail is kept in the local outbox (DATA_DIR/mail, and the admin Outbox page). `smtp://user:pass@host:587` or `smtps://…`: delivered by SMTP.',
  MAIL_FROM: 'Sender address of every email.',
  SECRET_KEY: 'At least 32 characters; signs sessions and derives the key that encrypts stored files. Unset: generated once and kept in DATA_DIR/secret.key (mode 0600).',
  TRUST_PROXY: 'Express "trust proxy": `false`, `true`, a hop count, or a comma-separated list of proxy addresses, so client addresses and https are read from X-Forwarded-* headers.',
  LOG_LEVEL: `One of ${LOG_LEVELS.join(', ')}.`,
  ORGANIZATION_NAME: 'Your organization\'s name, shown to vendors in the portal and in emails ("Acme Corp asks you to answer…").',
  EVIDENCE_MAX_FILE_MB: 'Largest evidence file a vendor may upload, in megabytes.',
  EVIDENCE_MAX_FILES: 'Most evidence files one questionnaire may hold.',
  REASSESSMENT_MONTHS:
    'Months between assessments per inherent risk tier, as `critical=6,high=12,medium=12,low=24`; a tier left out keeps its default. Vendors with access to personal information are never given more than 12.',
  REMINDER_CRON: 'When the daily reminder sweep runs: a cron expression (five fields, or six with seconds) read in REMINDER_TIMEZONE.',
  REMINDER_TIMEZONE: 'IANA time zone (`America/New_York`) for REMINDER_CRON and for deciding what "today" is when reminders fall due.',
  REASSESSMENT_LEAD_DAYS: 'Days before a vendor\'s next reassessment date that the annual-reassessment questionnaire is sent (or its business owner told).',
} as const;

export type ConfigKey = keyof typeof CONFIG_DOC;

const envSchema = z.object({
  PORT: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(0, 'must be from 0 to 65535')
    .max(65535, 'must be from 0 to 65535')
    .default(3000),
  DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// URL (leave it unset for SQLite)')
    .optional(),
  BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/.+/, 'must be an smtp:// or smtps:// URL (leave it unset to keep mail in the local outbox)')
    .optional(),
  MAIL_FROM: z.string().min(3, 'must be an email address').default('Oversight <oversight@localhost>'),
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v, ctx): boolean | number | string => {
      const s = v.trim();
      if (s === 'false' || s === '') return false;
      if (s === 'true') return true;
      if (/^\d+$/.test(s)) return Number(s);
      if (/^[\w.:/,\s-]+$/.test(s)) return s;
      ctx.addIssue({ code: 'custom', message: 'must be true, false, a hop count or a list of addresses' });
      return z.NEVER;
    }),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  ORGANIZATION_NAME: z.string().trim().min(1).max(200, 'must be at most 200 characters').default('Our organization'),
  EVIDENCE_MAX_FILE_MB: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be from 1 to 500').max(500, 'must be from 1 to 500').default(25),
  EVIDENCE_MAX_FILES: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be from 1 to 1000').max(1000, 'must be from 1 to 1000').default(20),
  REASSESSMENT_MONTHS: z
    .string()
    .optional()
    .transform((v, ctx): ReassessmentIntervals => {
      const out: ReassessmentIntervals = { ...DEFAULT_INTERVALS };
      if (!v) return out;
      for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
        const m = /^(critical|high|medium|low)=(\d{1,2})$/.exec(part);
        if (!m || Number(m[2]) < 1 || Number(m[2]) > 60) {
          ctx.addIssue({ code: 'custom', message: `"${part}" is not tier=months (tiers critical, high, medium, low; months 1 to 60)` });
          return z.NEVER;
        }
        out[m[1] as 'critical'] = Number(m[2]);
      }
      return out;
    }),
  REMINDER_CRON: z
    .string()
    .default('0 8 * * *')
    .refine((v) => cron.validate(v), 'must be a cron expression such as "0 8 * * *"'),
  REMINDER_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((v) => isTimeZone(v), 'must be an IANA time zone such as America/New_York'),
  REASSESSMENT_LEAD_DAYS: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be from 1 to 180').max(180, 'must be from 1 to 180').default(30),
});

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface Config {
  port: number;
  dataDir: string;
  database: { type: 'sqlite'; file: string } | { type: 'postgres'; url: string };
  baseUrl: string;
  secureCookies: boolean;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** 32 bytes; the root from which purpose-specific keys are derived (see deriveKey). */
  secretKey: Buffer;
  trustProxy: boolean | number | string;
  logLevel: (typeof LOG_LEVELS)[number];
  reassessmentIntervals: ReassessmentIntervals;
  organizationName: string;
  evidence: { maxFileBytes: number; maxFiles: number };
  reminders: { cron: string; timeZone: string; reassessmentLeadDays: number };
}

/** Thrown for a bad setting; its message names the variable and the reason. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration from an environment (process.env by default).
 * May create DATA_DIR and, on first start, the generated secret key file.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(CONFIG_DOC)) {
    const value = env[key];
    raw[key] = value === undefined || value.trim() === '' ? undefined : value;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = String(i.path[0] ?? 'config');
        const given = raw[key] === undefined ? '' : ` (got ${JSON.stringify(key === 'SECRET_KEY' ? '***' : raw[key])})`;
        return `${key}: ${i.message}${given}`;
      }),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(ROOT_DIR, e.DATA_DIR);
  try {
    fs.mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw new ConfigError([`DATA_DIR: cannot create ${dataDir} (${(err as Error).message})`]);
  }
  const baseUrl = e.BASE_URL ?? `http://localhost:${e.PORT || 3000}`;
  return {
    port: e.PORT,
    dataDir,
    database: e.DATABASE_URL
      ? { type: 'postgres', url: e.DATABASE_URL }
      : { type: 'sqlite', file: path.join(dataDir, 'oversight.sqlite') },
    baseUrl,
    secureCookies: baseUrl.startsWith('https://'),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    secretKey: e.SECRET_KEY ? crypto.createHash('sha256').update(e.SECRET_KEY).digest() : readOrCreateSecretKey(dataDir),
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    reassessmentIntervals: e.REASSESSMENT_MONTHS,
    organizationName: e.ORGANIZATION_NAME,
    evidence: { maxFileBytes: e.EVIDENCE_MAX_FILE_MB * 1024 * 1024, maxFiles: e.EVIDENCE_MAX_FILES },
    reminders: { cron: e.REMINDER_CRON, timeZone: e.REMINDER_TIMEZONE, reassessmentLeadDays: e.REASSESSMENT_LEAD_DAYS },
  };
}

/** The generated key lets the embedded default start with no setup; it never leaves DATA_DIR. */
function readOrCreateSecretKey(dataDir: string): Buffer {
  const file = path.join(dataDir, 'secret.key');
  try {
    const hex = fs.readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new ConfigError([`SECRET_KEY: ${file} is not a 64-digit hex key`]);
    return Buffer.from(hex, 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = crypto.randomBytes(32);
  try {
    // 'wx' fails if another process created it meanwhile; then read theirs.
    fs.writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreateSecretKey(dataDir);
    throw new ConfigError([`SECRET_KEY: cannot write ${file} (${(err as Error).message})`]);
  }
}

/** A key for one purpose (session signing, file encryption), derived from the secret key with HKDF. */
export function deriveKey(config: Pick<Config, 'secretKey'>, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', config.secretKey, Buffer.alloc(0), `oversight:${purpose}`, 32));
}
