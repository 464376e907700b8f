import ical, { ICalCalendarMethod } from 'ical-generator';
import { User } from '../accounts/entities';
import { recordAudit, type Actor } from '../audit/service';
import type { Context } from '../context';
import { addDays, localDate } from '../dates';
import { newToken, sha256Hex } from '../security/crypto';
import { CALENDAR_TYPES, upcoming, UPCOMING_TYPE_LABELS } from './upcoming';

/** How far the feed looks back and ahead. */
const PAST_DAYS = 30;
const AHEAD_DAYS = 366;
/** At most this many events per kind, so a huge portfolio still gives a feed calendar apps accept. */
const PER_KIND = 1000;

/**
 * Per-user calendar feeds of due dates. The address holds a secret (stored only as its SHA-256),
 * so calendar apps can subscribe without signing in; making a new one or revoking it stops the old
 * address at once.
 */
export class CalendarFeeds {
  constructor(private readonly ctx: Context) {}

  /** A new secret address for the user (any previous one stops working); shown once. */
  async create(actor: Actor, userId: number): Promise<string> {
    const token = newToken();
    await this.ctx.transact(async (m) => {
      const replaced = (await m.findOneOrFail(User, { where: { id: userId }, select: ['id', 'calendarTokenHash'] })).calendarTokenHash !== null;
      await m.update(User, { id: userId }, { calendarTokenHash: sha256Hex(token), updatedAt: this.ctx.clock.now() });
      await recordAudit(m, this.ctx.clock, actor, { action: replaced ? 'calendar.feed_replaced' : 'calendar.feed_created', entityType: 'user', entityId: userId });
    });
    return this.url(token);
  }

  async revoke(actor: Actor, userId: number): Promise<void> {
    await this.ctx.transact(async (m) => {
      await m.update(User, { id: userId }, { calendarTokenHash: null, updatedAt: this.ctx.clock.now() });
      await recordAudit(m, this.ctx.clock, actor, { action: 'calendar.feed_revoked', entityType: 'user', entityId: userId });
    });
  }

  url(token: string): string {
    return `${this.ctx.config.baseUrl}/calendar/${token}.ics`;
  }

  /** The active user a feed address belongs to, or null. */
  async userFor(token: string): Promise<User | null> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
    return this.ctx.ds.getRepository(User).findOne({ where: { calendarTokenHash: sha256Hex(token), active: true } });
  }

  /** The ICS text of a user's feed: all-day events for the dates their role acts on. */
  async ics(user: User): Promise<string> {
    const today = localDate(this.ctx.clock.now(), this.ctx.config.reminders.timeZone);
    const types = CALENDAR_TYPES[user.role];
    const { items } = await upcoming(this.ctx, { from: addDays(today, -PAST_DAYS), to: addDays(today, AHEAD_DAYS) }, types, { offset: 0, limit: PER_KIND * types.length });
    const host = new URL(this.ctx.config.baseUrl).hostname;
    const cal = ical({
      name: `Oversight: ${this.ctx.config.organizationName}`,
      description: `Due dates for ${user.name}: ${types.map((t) => UPCOMING_TYPE_LABELS[t].toLowerCase()).join('; ')}.`,
      prodId: { company: 'Oversight', product: 'Oversight', language: 'EN' },
      method: ICalCalendarMethod.PUBLISH,
      ttl: 3600,
    });
    for (const item of items) {
      cal.createEvent({
        id: `${item.uid}@${host}`,
        // Without a calendar time zone, ical-generator writes all-day dates from UTC fields.
        start: new Date(`${item.date}T00:00:00Z`),
        allDay: true,
        summary: `${item.what}: ${item.vendorName}`,
        description: `${item.title}\n${this.ctx.config.baseUrl}${item.path}`,
        url: `${this.ctx.config.baseUrl}${item.path}`,
        stamp: this.ctx.clock.now(),
      });
    }
    return cal.toString();
  }
}
