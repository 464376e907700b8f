import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import type { DataSource } from 'typeorm';
import { User } from '../../accounts/entities';
import type { Context } from '../../context';
import type { MailMessage } from '../../mail/outbox';

/** Who a reminder goes to: a colleague (userId set) or a vendor contact. */
export interface Recipient {
  email: string;
  name: string;
  userId: number | null;
}

/** A reminder a rule wants sent today; the sweep writes it once, with its email, in one transaction. */
export interface PlannedReminder {
  /** Unique forever: rule, subject and occurrence. */
  key: string;
  rule: string;
  vendorId: number | null;
  subjectType: string;
  subjectId: number;
  occurrence: string;
  recipient: Recipient;
  /** One line: what is due and by when (logs, dry runs, digests, the vendor's reminder history). */
  summary: string;
  /** Staff page to act on (vendor links are never stored). */
  url: string | null;
  dueOn: string | null;
  /** For colleagues, who may take reminders as a daily digest. */
  internal: boolean;
  /** What deliver() reads through BatchReads: the sweep reads it for the whole batch at once. */
  reads?: readonly { read: BatchRead<unknown>; id: number }[];
  /**
   * Does what the reminder does inside the sweep's transaction: returns the email to queue, or null
   * when the action mails by itself (sending a questionnaire, requesting a certification). Throws
   * SkipReminder when, at the moment of sending, it no longer applies.
   */
  deliver(m: EntityManager, reads: BatchReads): Promise<MailMessage | null>;
}

/** A read by id that deliver() makes inside the sweep's transaction; absent ids are left out of the map. */
export interface BatchRead<T> {
  load(m: EntityManager, ids: number[]): Promise<Map<number, T>>;
}

/**
 * The reads of one batch's reminders, inside its transaction: the first reminder that asks for a
 * BatchRead reads it for itself and every later reminder of the batch that declared it, one query
 * instead of one per reminder. A reminder's action (deliver() returning null: a questionnaire sent,
 * a certification requested) is the only write before the batch's rows, so after one the reads are
 * made again: what a reminder sees is never older than a read of its own would be.
 */
export class BatchReads {
  private readonly loaded = new Map<BatchRead<unknown>, Map<number, unknown>>();
  private position = 0;

  constructor(
    private readonly m: EntityManager,
    private readonly batch: readonly PlannedReminder[],
  ) {}

  /** The reminder at this index of the batch is delivered next: reads are made for it and those after it. */
  at(index: number): void {
    this.position = index;
  }

  /** A reminder's action wrote in the transaction: what was read before may have changed. */
  invalidate(): void {
    this.loaded.clear();
  }

  async get<T>(read: BatchRead<T>, id: number): Promise<T | undefined> {
    let rows = this.loaded.get(read);
    if (!rows?.has(id)) {
      const ids = new Set([id]);
      for (const p of this.batch.slice(this.position)) for (const r of p.reads ?? []) if (r.read === read) ids.add(r.id);
      const found = await read.load(this.m, [...ids]);
      rows = new Map<number, unknown>();
      for (const i of ids) rows.set(i, found.get(i));
      this.loaded.set(read, rows);
    }
    return rows.get(id) as T | undefined;
  }
}

/** Thrown by deliver() when a reminder no longer applies; nothing is written. */
export class SkipReminder extends Error {}

/** What a rule gets for a sweep. */
export interface RuleInput {
  ctx: Context;
  /** The sweep's day in REMINDER_TIMEZONE. */
  today: string;
  now: Date;
  staff: StaffDirectory;
}

/** One reminder rule: decides, for a day, which reminders are due. Running it twice a day plans the same keys. */
export interface ReminderRule {
  name: string;
  /** For the admin page and the README. */
  description: string;
  plan(input: RuleInput): Promise<PlannedReminder[]>;
}

/** The active colleagues, loaded once per sweep (a company has hundreds of users, not millions). */
export class StaffDirectory {
  private constructor(private readonly users: User[]) {}

  static async load(ds: DataSource | EntityManager): Promise<StaffDirectory> {
    const manager = 'manager' in ds ? ds.manager : ds;
    return new StaffDirectory(await manager.find(User, { where: { active: true }, select: ['id', 'email', 'name', 'role', 'reminderDelivery'], order: { id: 'ASC' } }));
  }

  byId(id: number | null | undefined): User | undefined {
    return id == null ? undefined : this.users.find((u) => u.id === id);
  }

  withRole(...roles: User['role'][]): User[] {
    return this.users.filter((u) => roles.includes(u.role));
  }

  /** The given user if active; otherwise the users of the fallback roles (admins last of all), so a reminder always has someone. */
  ownerOr(id: number | null | undefined, ...roles: User['role'][]): User[] {
    const owner = this.byId(id);
    if (owner) return [owner];
    const byRole = this.withRole(...roles);
    return byRole.length ? byRole : this.withRole('admin');
  }

  prefersDigest(userId: number | null): boolean {
    return this.byId(userId)?.reminderDelivery === 'digest';
  }
}

export const asRecipient = (u: Pick<User, 'id' | 'email' | 'name'>): Recipient => ({ email: u.email, name: u.name, userId: u.id });

/** Loads rows by id in chunks (stays under SQLite's parameter limit). */
export async function byIds<T extends { id: number }>(load: (ids: number[]) => Promise<T[]>, ids: number[]): Promise<Map<number, T>> {
  const out = new Map<number, T>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 500) for (const row of await load(unique.slice(i, i + 500))) out.set(row.id, row);
  return out;
}

export { In };
