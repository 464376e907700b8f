import { Router } from 'express';
import { z } from 'zod';
import { REMINDER_DELIVERIES, User } from '../accounts/entities';
import { recordAudit } from '../audit/service';
import type { Context } from '../context';
import { addDays, localDate } from '../dates';
import { NotFoundError, ValidationError } from '../errors';
import { requireRole, requireUser } from '../http/auth';
import { pageNumber, parseInput } from '../http/forms';
import { actorOf, flash } from '../http/request';
import { Vendor } from '../vendors/entities';
import { CalendarFeeds } from './calendar';
import { Reminder } from './entities';
import { lastSweep, RULES, runSweep } from './sweep';
import { upcoming, UPCOMING_TYPE_LABELS, UPCOMING_TYPES, type UpcomingType } from './upcoming';

const PAGE_SIZE = 50;
const UPCOMING_DAYS = 30;

export const RULE_LABELS: Record<string, string> = {
  'questionnaire-due': 'Questionnaire due',
  'questionnaire-overdue': 'Questionnaire overdue',
  'questionnaire-unopened': 'Questionnaire not opened',
  'questionnaire-escalated': 'Escalated to the business owner',
  'reassessment-sent': 'Reassessment sent',
  'reassessment-owner': 'Reassessment due (business owner told)',
  'certification-renewal': 'Certification renewal requested',
  'certification-renewal-reminder': 'Certification renewal reminder',
  'certification-expiring': 'Certification expiring',
  'contract-notice': 'Contract notice deadline',
  'amendment-overdue': 'Amendment past its target date',
  'finding-overdue': 'Finding past its remediation date',
  'risk-acceptance-expiring': 'Risk acceptance lapsing',
};

const upcomingQuery = z.object({
  type: z.enum(UPCOMING_TYPES, { error: `type must be one of: ${UPCOMING_TYPES.join(', ')}` }).optional(),
  days: z.coerce.number({ error: 'days must be a number' }).int('days must be a whole number').min(1, 'days must be from 1 to 365').max(365, 'days must be from 1 to 365').default(UPCOMING_DAYS),
});

const logQuery = z.object({
  rule: z.string().refine((r) => r in RULE_LABELS, `rule must be one of: ${Object.keys(RULE_LABELS).join(', ')}`).optional(),
});

const preferenceSchema = z.object({
  reminderDelivery: z.enum(REMINDER_DELIVERIES, { error: 'Choose immediate reminders or a daily digest.' }),
});

/** The first value of a query parameter (Express gives arrays for repeated ones). */
function query(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = Array.isArray(v) ? v[0] : v === '' ? undefined : v;
  return out;
}

/** The public calendar feed, reached without a session: the secret address is the credential. */
export function calendarFeedRoutes(ctx: Context): Router {
  const r = Router();
  const feeds = new CalendarFeeds(ctx);
  r.get('/calendar/:file', async (req, res) => {
    const m = /^([A-Za-z0-9_-]{20,100})\.ics$/.exec(req.params.file);
    const user = m ? await feeds.userFor(m[1]!) : null;
    if (!user) throw new NotFoundError('No such calendar.');
    res.set('Cache-Control', 'private, max-age=900');
    res.type('text/calendar; charset=utf-8').send(await feeds.ics(user));
  });
  return r;
}

/** Upcoming due dates, the reminder log, the admin sweep controls and each user's reminder settings. */
export function reminderRoutes(ctx: Context): Router {
  const r = Router();
  const feeds = new CalendarFeeds(ctx);
  const today = () => localDate(ctx.clock.now(), ctx.config.reminders.timeZone);

  r.get('/reminders', requireUser(), async (req, res) => {
    const q = parseInput(upcomingQuery, query(req.query));
    const page = pageNumber(req.query.page);
    const from = today();
    const to = addDays(from, q.days - 1);
    const types: readonly UpcomingType[] = q.type ? [q.type] : UPCOMING_TYPES;
    const { items, hasMore } = await upcoming(ctx, { from, to }, types, { offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
    const params = (p: number) => new URLSearchParams({ ...(q.type ? { type: q.type } : {}), ...(q.days !== UPCOMING_DAYS ? { days: String(q.days) } : {}), ...(p > 1 ? { page: String(p) } : {}) }).toString();
    res.render('reminders/upcoming', {
      title: 'Upcoming',
      items,
      from,
      to,
      type: q.type ?? '',
      days: q.days,
      typeOptions: UPCOMING_TYPES.map((t) => ({ value: t, label: UPCOMING_TYPE_LABELS[t] })),
      page,
      prevHref: page > 1 ? `?${params(page - 1)}` : null,
      nextHref: hasMore ? `?${params(page + 1)}` : null,
    });
  });

  r.get('/vendors/:id/reminders', requireUser(), async (req, res) => {
    const id = /^\d{1,9}$/.test(String(req.params.id)) ? Number(req.params.id) : NaN;
    const vendor = Number.isNaN(id) ? null : await ctx.ds.getRepository(Vendor).findOne({ where: { id }, select: ['id', 'legalName', 'reassessmentStart'] });
    if (!vendor) throw new NotFoundError('No such vendor.');
    const page = pageNumber(req.query.page);
    const rows = await ctx.ds.getRepository(Reminder).find({ where: { vendorId: id }, order: { createdAt: 'DESC', id: 'DESC' }, skip: (page - 1) * PAGE_SIZE, take: PAGE_SIZE + 1 });
    res.render('reminders/vendor-log', { title: `Reminders: ${vendor.legalName}`, vendor, reminders: rows.slice(0, PAGE_SIZE), ruleLabels: RULE_LABELS, page, hasMore: rows.length > PAGE_SIZE });
  });

  r.get('/admin/reminders', requireRole('admin'), async (req, res) => {
    const q = parseInput(logQuery, query(req.query));
    const page = pageNumber(req.query.page);
    const rows = await ctx.ds.getRepository(Reminder).find({ where: q.rule ? { rule: q.rule } : {}, order: { createdAt: 'DESC', id: 'DESC' }, skip: (page - 1) * PAGE_SIZE, take: PAGE_SIZE + 1 });
    const vendorIds = [...new Set(rows.flatMap((x) => (x.vendorId ? [x.vendorId] : [])))];
    const names = new Map(vendorIds.length ? (await ctx.ds.getRepository(Vendor).createQueryBuilder('v').select(['v.id', 'v.legalName']).whereInIds(vendorIds).getMany()).map((v) => [v.id, v.legalName]) : []);
    const preview = req.query.preview === '1' ? await runSweep(ctx, ctx.clock.now(), { dryRun: true }) : null;
    const params = (p: number) => new URLSearchParams({ ...(q.rule ? { rule: q.rule } : {}), page: String(p) }).toString();
    res.render('reminders/admin', {
      title: 'Reminders',
      reminders: rows.slice(0, PAGE_SIZE),
      vendorNames: names,
      ruleLabels: RULE_LABELS,
      rule: q.rule ?? '',
      rules: RULES,
      last: await lastSweep(ctx),
      preview,
      schedule: ctx.config.reminders,
      page,
      prevHref: page > 1 ? `?${params(page - 1)}` : null,
      nextHref: rows.length > PAGE_SIZE ? `?${params(page + 1)}` : null,
    });
  });

  r.post('/admin/reminders/run', requireRole('admin'), async (req, res) => {
    const result = await runSweep(ctx, ctx.clock.now());
    await ctx.transact((m) => recordAudit(m, ctx.clock, actorOf(req), { action: 'reminders.run_requested', details: { date: result.date, ran: result.ran, sent: result.sent } }));
    if (!result.ran) flash(req, 'info', 'Another instance is running the sweep right now; nothing was done twice.');
    else flash(req, 'success', `Sweep for ${result.date} done: ${result.sent} reminder${result.sent === 1 ? '' : 's'} written, ${result.digests} digest${result.digests === 1 ? '' : 's'}${result.failed ? `, ${result.failed} failed (see the log)` : ''}.`);
    res.redirect(303, '/admin/reminders');
  });

  r.get('/account/reminders', requireUser(), async (req, res) => {
    const user = await ctx.ds.getRepository(User).findOneOrFail({ where: { id: req.user!.id } });
    res.render('reminders/settings', { title: 'Reminders and calendar', values: { reminderDelivery: user.reminderDelivery }, hasFeed: user.calendarTokenHash !== null, feedUrl: null, errors: {} });
  });

  r.post('/account/reminders', requireUser(), async (req, res) => {
    const user = await ctx.ds.getRepository(User).findOneOrFail({ where: { id: req.user!.id } });
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      const input = parseInput(preferenceSchema, body);
      if (input.reminderDelivery !== user.reminderDelivery) {
        await ctx.transact(async (m) => {
          await m.update(User, { id: user.id }, { reminderDelivery: input.reminderDelivery, updatedAt: ctx.clock.now() });
          await recordAudit(m, ctx.clock, actorOf(req), { action: 'user.reminder_delivery_changed', entityType: 'user', entityId: user.id, changes: { reminderDelivery: [user.reminderDelivery, input.reminderDelivery] } });
        });
      }
      flash(req, 'success', input.reminderDelivery === 'digest' ? 'You will get your reminders as one daily digest.' : 'You will get each reminder as it falls due.');
      res.redirect(303, '/account/reminders');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      res.status(400).render('reminders/settings', { title: 'Reminders and calendar', values: body, hasFeed: user.calendarTokenHash !== null, feedUrl: null, errors: err.fields });
    }
  });

  r.post('/account/calendar', requireUser(), async (req, res) => {
    const user = await ctx.ds.getRepository(User).findOneOrFail({ where: { id: req.user!.id } });
    const feedUrl = await feeds.create(actorOf(req), user.id);
    res.status(201).render('reminders/settings', { title: 'Reminders and calendar', values: { reminderDelivery: user.reminderDelivery }, hasFeed: true, feedUrl, errors: {} });
  });

  r.post('/account/calendar/revoke', requireUser(), async (req, res) => {
    await feeds.revoke(actorOf(req), req.user!.id);
    flash(req, 'success', 'Your calendar address was revoked; calendars subscribed to it stop updating.');
    res.redirect(303, '/account/reminders');
  });

  return r;
}
