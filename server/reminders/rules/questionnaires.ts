import { In, IsNull, LessThanOrEqual } from 'typeorm';
import { User } from '../../accounts/entities';
import { addDays, daysBetween } from '../../dates';
import { questionnaireDueEmail, questionnaireOverdueEmail, questionnaireUnopenedEmail } from '../../mail/messages/reminders';
import { Questionnaire } from '../../questionnaires/entities';
import { Vendor } from '../../vendors/entities';
import { staffReminder } from './staff';
import { type BatchRead, byIds, type PlannedReminder, type ReminderRule, type RuleInput, SkipReminder } from './types';

/** Statuses in which a vendor still owes answers. */
const OWED = ['sent', 'in_progress', 'returned'] as const;
/** "Due in" reminders go out at these many days before the due date (the nearest stage not yet sent). */
const DUE_STAGES = [1, 3, 7] as const;
const OVERDUE_EVERY_DAYS = 7;
const ESCALATE_AFTER_DAYS = 7;
const UNOPENED_AFTER_DAYS = 3;

/**
 * Questionnaires: due in 7, 3 and 1 days and overdue every 7 days (to the vendor contact, while its
 * link still works), escalated to the business owner once 7 days overdue, and a nudge when the link
 * has not been opened 3 days after sending.
 */
export const questionnaireReminders: ReminderRule = {
  name: 'questionnaires',
  description: 'Questionnaire due in 7, 3 and 1 days and overdue every 7 days, to the vendor contact; escalated to the business owner after 7 days overdue; a nudge when the link is unopened 3 days after sending.',
  async plan(input) {
    const { ctx, today, now } = input;
    const repo = ctx.ds.getRepository(Questionnaire);
    // Only what the reminders say (not the template snapshot): thousands are due each day at 100,000 vendors.
    const select: (keyof Questionnaire)[] = ['id', 'vendorId', 'recipientName', 'recipientEmail', 'title', 'status', 'dueDate', 'sentById', 'sentAt', 'firstOpenedAt'];
    const [due, unopened] = await Promise.all([
      repo.find({ where: { status: In([...OWED]), dueDate: LessThanOrEqual(addDays(today, 7)) }, select, order: { dueDate: 'ASC', id: 'ASC' } }),
      repo.find({ where: { status: 'sent', firstOpenedAt: IsNull(), sentAt: LessThanOrEqual(new Date(now.getTime() - UNOPENED_AFTER_DAYS * 86_400_000)) }, select, order: { id: 'ASC' } }),
    ]);
    const vendors = await byIds((ids) => ctx.ds.getRepository(Vendor).find({ where: { id: In(ids) }, select: ['id', 'legalName', 'status', 'businessOwnerId'] }), [...due, ...unopened].map((q) => q.vendorId));
    const senders = await byIds((ids) => ctx.ds.getRepository(User).find({ where: { id: In(ids) }, select: ['id', 'name', 'email'] }), [...due, ...unopened].flatMap((q) => (q.sentById ? [q.sentById] : [])));
    const out: PlannedReminder[] = [];
    for (const q of due) {
      const vendor = vendors.get(q.vendorId);
      if (!vendor || vendor.status === 'terminated') continue;
      const daysLeft = daysBetween(today, q.dueDate);
      const linkOpen = now <= ctx.questionnaires.linkExpiry(q.dueDate);
      if (daysLeft >= 0) {
        // A questionnaire sent yesterday or today has its invitation fresh in the inbox.
        if (daysBetween(q.sentAt.toISOString().slice(0, 10), today) < 2) continue;
        const stage = DUE_STAGES.find((s) => daysLeft <= s)!;
        out.push(vendorReminder(input, q, vendor, senders.get(q.sentById ?? 0), `due-${stage}d`, `Questionnaire "${q.title}" due ${q.dueDate} (${daysLeft} day${daysLeft === 1 ? '' : 's'} left): reminder to ${q.recipientEmail}`, async (common, link) => questionnaireDueEmail({ ...common, link, daysLeft })));
        continue;
      }
      const overdue = -daysLeft;
      if (linkOpen) {
        const n = Math.floor((overdue - 1) / OVERDUE_EVERY_DAYS);
        const linkUntil = ctx.questionnaires.linkExpiry(q.dueDate).toISOString().slice(0, 10);
        out.push(vendorReminder(input, q, vendor, senders.get(q.sentById ?? 0), `overdue-${n}`, `Questionnaire "${q.title}" overdue since ${q.dueDate} (${overdue} day${overdue === 1 ? '' : 's'}): reminder to ${q.recipientEmail}`, async (common, link) => questionnaireOverdueEmail({ ...common, link, daysOverdue: overdue, linkUntil })));
      }
      if (overdue >= ESCALATE_AFTER_DAYS) {
        for (const user of input.staff.ownerOr(vendor.businessOwnerId, 'procurement')) {
          out.push(
            staffReminder(input, user, {
              key: `questionnaire-escalated:${q.id}:${q.dueDate}`,
              rule: 'questionnaire-escalated',
              vendorId: vendor.id,
              subjectType: 'questionnaire',
              subjectId: q.id,
              occurrence: 'escalated',
              summary: `${vendor.legalName}: questionnaire "${q.title}" is ${overdue} days overdue (due ${q.dueDate})`,
              path: `/questionnaires/${q.id}`,
              dueOn: q.dueDate,
              notice: {
                kind: 'reminder-questionnaire-escalated',
                subject: `Overdue ${overdue} days: ${vendor.legalName}, "${q.title}"`,
                lines: [
                  `${vendor.legalName} has not submitted the questionnaire "${q.title}", due on ${q.dueDate}: it is now ${overdue} days overdue. ${q.recipientName} (${q.recipientEmail}) has been reminded by email.`,
                  linkOpen
                    ? `The vendor's link works until ${ctx.questionnaires.linkExpiry(q.dueDate).toISOString().slice(0, 10)}. As the business owner you may want to call your contact, or extend the due date on the questionnaire page.`
                    : 'The vendor\'s link has expired. Extend the due date on the questionnaire page to reopen it.',
                ],
                actionLabel: 'Open the questionnaire',
              },
            }),
          );
        }
      }
    }
    for (const q of unopened) {
      const vendor = vendors.get(q.vendorId);
      if (!vendor || vendor.status === 'terminated' || q.dueDate < today) continue;
      out.push(vendorReminder(input, q, vendor, senders.get(q.sentById ?? 0), 'unopened', `Questionnaire "${q.title}" not opened since ${q.sentAt.toISOString().slice(0, 10)}: nudge to ${q.recipientEmail}`, async (common, link) => questionnaireUnopenedEmail({ ...common, link, sentOn: q.sentAt.toISOString().slice(0, 10) })));
    }
    return out;
  },
};

type Common = Parameters<typeof questionnaireDueEmail>[0];

function vendorReminder(
  input: RuleInput,
  q: Questionnaire,
  vendor: Pick<Vendor, 'id' | 'legalName'>,
  sender: Pick<User, 'name' | 'email'> | undefined,
  occurrence: string,
  summary: string,
  mail: (common: Omit<Common, 'daysLeft' | 'link'>, link: string) => ReturnType<typeof questionnaireDueEmail>,
): PlannedReminder {
  const { ctx } = input;
  return {
    key: `questionnaire-${occurrence}:${q.id}:${q.dueDate}`,
    rule: occurrence === 'unopened' ? 'questionnaire-unopened' : occurrence.startsWith('due') ? 'questionnaire-due' : 'questionnaire-overdue',
    vendorId: vendor.id,
    subjectType: 'questionnaire',
    subjectId: q.id,
    occurrence,
    recipient: { email: q.recipientEmail, name: q.recipientName, userId: null },
    summary,
    url: `${ctx.config.baseUrl}/questionnaires/${q.id}`,
    dueOn: q.dueDate,
    internal: false,
    reads: [{ read: stateAtSending(input), id: q.id }],
    deliver: async (_m, reads) => {
      // Read again inside the transaction: an answer submitted since planning stops the reminder.
      const current = await reads.get(stateAtSending(input), q.id);
      if (!current || !(OWED as readonly string[]).includes(current.status) || current.dueDate !== q.dueDate) throw new SkipReminder('questionnaire no longer owed');
      if (!current.link) throw new SkipReminder('no live link');
      return mail(
        {
          to: q.recipientEmail,
          name: q.recipientName,
          vendorName: vendor.legalName,
          title: q.title,
          dueDate: q.dueDate,
          contactName: sender?.name ?? ctx.config.organizationName,
          contactEmail: sender?.email ?? null,
          organizationName: ctx.config.organizationName,
        },
        current.link,
      );
    },
  };
}

type StateAtSending = Pick<Questionnaire, 'status' | 'dueDate'> & { link: string | null };
const stateReads = new WeakMap<RuleInput, BatchRead<StateAtSending>>();

/** A questionnaire's status, due date and vendor link, read for a batch of reminders at sending (one read per sweep's input, so the batch shares it). */
function stateAtSending(input: RuleInput): BatchRead<StateAtSending> {
  let read = stateReads.get(input);
  if (!read) {
    const { ctx } = input;
    read = {
      async load(m, ids) {
        // One batch's ids: a few hundred at most.
        const rows = await m.find(Questionnaire, { where: { id: In(ids) }, select: ['id', 'status', 'dueDate'] });
        const links = await ctx.questionnaires.currentLinkUrls(m, rows.filter((r) => (OWED as readonly string[]).includes(r.status)).map((r) => r.id));
        return new Map(rows.map((r) => [r.id, { status: r.status, dueDate: r.dueDate, link: links.get(r.id) ?? null }]));
      },
    };
    stateReads.set(input, read);
  }
  return read;
}
