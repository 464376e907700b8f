import { type EntityManager, In, IsNull } from 'typeorm';
import { recordAudit, systemActor } from '../audit/service';
import { MINUTE } from '../clock';
import type { Context } from '../context';
import { localDate } from '../dates';
import { insertRows } from '../db/rows';
import { AppSetting } from '../db/settings.entity';
import { OutboxMessage } from '../mail/entities';
import { reminderDigestEmail } from '../mail/messages/reminders';
import { enqueueMail, enqueueMails, type MailMessage } from '../mail/outbox';
import { Reminder } from './entities';
import { certificationReminders } from './rules/certifications';
import { contractReminders } from './rules/contracts';
import { findingReminders } from './rules/findings';
import { questionnaireReminders } from './rules/questionnaires';
import { reassessmentReminders } from './rules/reassessment';
import { BatchReads, type PlannedReminder, type ReminderRule, SkipReminder, StaffDirectory } from './rules/types';

/** Every reminder rule, in the order a sweep runs them. */
export const RULES: ReminderRule[] = [reassessmentReminders, questionnaireReminders, certificationReminders, contractReminders, findingReminders];

export const SWEEP_LEASE = 'reminder-sweep';
const SWEEP_LEASE_MS = 15 * MINUTE;
const LAST_SWEEP_SETTING = 'reminders.lastSweep';
/** Reminders written per transaction (each in a savepoint of its own): one commit per reminder cost more than the rest of the sweep. */
const WRITE_BATCH = 200;

export interface SweepResult {
  /** The sweep's day in REMINDER_TIMEZONE. */
  date: string;
  /** False when another instance held the lease and this one did nothing. */
  ran: boolean;
  dryRun: boolean;
  /** Reminders due today and not yet sent (in a dry run: what would be sent). */
  planned: Pick<PlannedReminder, 'key' | 'rule' | 'summary' | 'recipient' | 'dueOn'>[];
  sent: number;
  /** Planned but no longer applicable at sending, or written meanwhile by another sweep. */
  skipped: number;
  failed: number;
  digests: number;
  durationMs: number;
}

/**
 * The reminder sweep: asks every rule what is due today, leaves out what was sent before (the
 * reminders table's unique key), and writes each new reminder with its email in one transaction;
 * then gathers digest users' reminders into one mail each. One instance at a time (the lease);
 * a dry run writes nothing and takes no lease.
 */
export async function runSweep(ctx: Context, now: Date, options: { dryRun?: boolean; rules?: ReminderRule[] } = {}): Promise<SweepResult> {
  const started = Date.now();
  const date = localDate(now, ctx.config.reminders.timeZone);
  const empty: SweepResult = { date, ran: false, dryRun: !!options.dryRun, planned: [], sent: 0, skipped: 0, failed: 0, digests: 0, durationMs: 0 };
  const work = async (): Promise<SweepResult> => {
    const staff = await StaffDirectory.load(ctx.ds);
    const input = { ctx, today: date, now, staff };
    const planned: PlannedReminder[] = [];
    for (const rule of options.rules ?? RULES) planned.push(...(await rule.plan(input)));
    const fresh = await withoutSent(ctx, planned);
    const result: SweepResult = { ...empty, ran: true, planned: fresh.map(({ key, rule, summary, recipient, dueOn }) => ({ key, rule, summary, recipient, dueOn })) };
    if (options.dryRun) return { ...result, durationMs: Date.now() - started };
    for (let i = 0; i < fresh.length; i += WRITE_BATCH) {
      const counted = await writeBatch(ctx, fresh.slice(i, i + WRITE_BATCH), date, staff);
      result.sent += counted.sent;
      result.skipped += counted.skipped;
      result.failed += counted.failed;
    }
    result.digests = await sendDigests(ctx, date, staff);
    result.durationMs = Date.now() - started;
    await ctx.transact(async (m) => {
      await m.upsert(AppSetting, { key: LAST_SWEEP_SETTING, value: JSON.stringify({ at: now.toISOString(), date, sent: result.sent, skipped: result.skipped, failed: result.failed, digests: result.digests, durationMs: result.durationMs }), updatedAt: now }, { conflictPaths: ['key'] });
      if (result.sent || result.digests || result.failed) {
        await recordAudit(m, ctx.clock, systemActor('reminders'), { action: 'reminders.sweep', details: { date, sent: result.sent, skipped: result.skipped, failed: result.failed, digests: result.digests } });
      }
    });
    if (result.sent || result.digests) ctx.mail.kick();
    ctx.logger.info({ date, sent: result.sent, skipped: result.skipped, failed: result.failed, digests: result.digests, ms: result.durationMs }, 'reminder sweep done');
    return result;
  };
  if (options.dryRun) return work();
  return (await ctx.leases.withLease(SWEEP_LEASE, SWEEP_LEASE_MS, work)) ?? { ...empty, durationMs: Date.now() - started };
}

/** The last sweep's figures, for the admin page. */
export async function lastSweep(ctx: Pick<Context, 'ds'>): Promise<{ at: string; date: string; sent: number; skipped: number; failed: number; digests: number; durationMs: number } | null> {
  const row = await ctx.ds.getRepository(AppSetting).findOne({ where: { key: LAST_SWEEP_SETTING } });
  return row ? (JSON.parse(row.value) as { at: string; date: string; sent: number; skipped: number; failed: number; digests: number; durationMs: number }) : null;
}

/** The planned reminders whose key is not in the table yet (and each key once). */
async function withoutSent(ctx: Context, planned: PlannedReminder[]): Promise<PlannedReminder[]> {
  const unique = new Map(planned.map((p) => [p.key, p]));
  const keys = [...unique.keys()];
  // Plain SQL on the unique index: tens of thousands of keys are planned each day at 100,000 vendors.
  for (let i = 0; i < keys.length; i += 1000) {
    const [sql, params] = ctx.ds.driver.escapeQueryWithParameters('SELECT "key" FROM "reminders" WHERE "key" IN (:...keys)', { keys: keys.slice(i, i + 1000) }, {});
    for (const r of (await ctx.ds.query(sql, params)) as { key: string }[]) unique.delete(r.key);
  }
  return [...unique.values()];
}

/**
 * Writes a batch of reminders in one transaction: one commit per reminder cost more than all the
 * rest of a sweep. The batch is tried whole first; if any reminder in it fails (one that no longer
 * applies, or that another sweep wrote meanwhile), it is rolled back and written again with a
 * savepoint per reminder, so that one leaves the others alone.
 */
async function writeBatch(ctx: Context, batch: PlannedReminder[], date: string, staff: StaffDirectory): Promise<{ sent: number; skipped: number; failed: number }> {
  try {
    await ctx.transact((m) => write(ctx, m, batch, date, staff));
    return { sent: batch.length, skipped: 0, failed: 0 };
  } catch {
    // Written again one savepoint at a time below, where each reminder's error is told apart.
  }
  try {
    return await ctx.transact(async (m) => {
      const c = { sent: 0, skipped: 0, failed: 0 };
      for (const p of batch) {
        try {
          await m.transaction((sp) => write(ctx, sp, [p], date, staff));
          c.sent += 1;
        } catch (err) {
          if (err instanceof SkipReminder || isUniqueViolation(err)) {
            c.skipped += 1;
          } else {
            c.failed += 1;
            ctx.logger.error({ err, key: p.key }, 'reminder could not be written; the next sweep tries again');
          }
        }
      }
      return c;
    });
  } catch (err) {
    ctx.logger.error({ err, reminders: batch.length }, 'a batch of reminders could not be written; the next sweep tries again');
    return { sent: 0, skipped: 0, failed: batch.length };
  }
}

/** The reminders columns write() inserts, in its INSERT's order. */
const REMINDER_COLUMNS = ['key', 'rule', 'vendorId', 'subjectType', 'subjectId', 'occurrence', 'recipientEmail', 'recipientUserId', 'summary', 'url', 'dueOn', 'delivery', 'outboxId', 'digestOutboxId', 'sweepDate', 'createdAt'] as const;
type ReminderRow = Omit<Reminder, 'id'>;

/**
 * Reminders with their emails, or their actions, in the caller's transaction: each reminder's
 * action runs first (deliver(), which may throw SkipReminder), then the emails are queued and the
 * rows (the unique keys) inserted, a statement or three for the lot. A second sweep that got here
 * meanwhile fails on the unique key and, its transaction rolled back, leaves nothing behind.
 */
async function write(ctx: Context, m: EntityManager, batch: PlannedReminder[], date: string, staff: StaffDirectory): Promise<void> {
  const rows: ReminderRow[] = [];
  const mails: (MailMessage & { dedupeKey: string })[] = [];
  const mailed: ReminderRow[] = [];
  const reads = new BatchReads(m, batch);
  for (const [index, p] of batch.entries()) {
    const delivery = p.internal && staff.prefersDigest(p.recipient.userId) ? 'digest' : 'email';
    const row: ReminderRow = {
      key: p.key,
      rule: p.rule,
      vendorId: p.vendorId,
      subjectType: p.subjectType,
      subjectId: p.subjectId,
      occurrence: p.occurrence,
      recipientEmail: p.recipient.email,
      recipientUserId: p.recipient.userId,
      summary: p.summary.slice(0, 500),
      url: p.url?.slice(0, 500) ?? null,
      dueOn: p.dueOn,
      delivery,
      outboxId: null,
      digestOutboxId: null,
      sweepDate: date,
      createdAt: ctx.clock.now(),
    };
    if (delivery !== 'digest') {
      reads.at(index);
      const mail = await p.deliver(m, reads);
      if (mail) {
        mails.push({ ...mail, dedupeKey: `reminder:${p.key}` });
        mailed.push(row);
      } else {
        row.delivery = 'action';
        reads.invalidate();
      }
    }
    rows.push(row);
  }
  const outboxIds = await enqueueMails(m, ctx.clock, ctx.mailKey, mails);
  mailed.forEach((row, i) => (row.outboxId = outboxIds[i]!));
  await insertRows(m, 'reminders', REMINDER_COLUMNS, rows.map((row) => REMINDER_COLUMNS.map((c) => row[c])));
}

/** One digest mail per colleague who chose the digest, with every reminder of theirs not yet digested. */
async function sendDigests(ctx: Context, date: string, staff: StaffDirectory): Promise<number> {
  const pending = await ctx.ds.getRepository(Reminder).find({ where: { delivery: 'digest', digestOutboxId: IsNull() }, order: { recipientUserId: 'ASC', id: 'ASC' } });
  const byUser = new Map<number, Reminder[]>();
  for (const r of pending) if (r.recipientUserId) byUser.set(r.recipientUserId, [...(byUser.get(r.recipientUserId) ?? []), r]);
  let sent = 0;
  for (const [userId, items] of byUser) {
    const user = staff.byId(userId);
    try {
      await ctx.transact(async (m) => {
        const ids = items.map((i) => i.id);
        // Same key for the same first item: a sweep that crashed after queueing never queues it twice.
        const dedupeKey = `reminder-digest:${userId}:${ids[0]}`;
        if (user) {
          await enqueueMail(m, ctx.clock, ctx.mailKey, {
            ...(await reminderDigestEmail({ to: user.email, name: user.name, date, items: items.map((i) => ({ summary: i.summary, url: i.url })), organizationName: ctx.config.organizationName, accountUrl: `${ctx.config.baseUrl}/account` })),
            dedupeKey,
          });
        }
        const queued = user ? await m.findOne(OutboxMessage, { where: { dedupeKey }, select: ['id'] }) : null;
        // A user deactivated since gets no digest; the rows are closed with outbox id 0.
        for (let i = 0; i < ids.length; i += 500) await m.update(Reminder, { id: In(ids.slice(i, i + 500)) }, { digestOutboxId: queued?.id ?? 0 });
      });
      if (user) sent += 1;
    } catch (err) {
      ctx.logger.error({ err, userId }, 'reminder digest could not be queued; the next sweep tries again');
    }
  }
  return sent;
}

/** A unique-index violation on SQLite or PostgreSQL. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string }; message?: string };
  const code = e?.driverError?.code ?? e?.code;
  return code === '23505' || (code === 'SQLITE_CONSTRAINT' && /UNIQUE/.test(String(e.message))) || /UNIQUE constraint failed/.test(String(e?.message));
}
