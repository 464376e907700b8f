import { In, LessThan, LessThanOrEqual } from 'typeorm';
import { addDays, daysBetween } from '../../dates';
import { Finding, OPEN_FINDING_STATUSES } from '../../findings/entities';
import { Vendor } from '../../vendors/entities';
import { staffReminder } from './staff';
import { byIds, type PlannedReminder, type ReminderRule } from './types';

const OVERDUE_EVERY_DAYS = 7;
/** Risk acceptances are flagged this many days before they lapse. */
const ACCEPTANCE_LEAD_DAYS = 14;

/**
 * Findings: one past its remediation date tells its owner (every 7 days); a risk acceptance about to
 * lapse (14 days before, and once lapsed) tells the finding's owner, or whoever accepted the risk.
 */
export const findingReminders: ReminderRule = {
  name: 'findings',
  description: `Finding past its remediation date, every 7 days, and risk acceptance expiring within ${ACCEPTANCE_LEAD_DAYS} days, to the owner.`,
  async plan(input) {
    const { ctx, today, staff } = input;
    const repo = ctx.ds.getRepository(Finding);
    const select: (keyof Finding)[] = ['id', 'vendorId', 'title', 'severity', 'citation', 'ownerId', 'dueDate', 'status', 'riskAcceptedById', 'riskAcceptanceExpiresOn'];
    const [overdue, accepted] = await Promise.all([
      repo.find({ where: { status: In(OPEN_FINDING_STATUSES), dueDate: LessThan(today) }, select, order: { dueDate: 'ASC', id: 'ASC' } }),
      repo.find({ where: { status: 'risk_accepted', riskAcceptanceExpiresOn: LessThanOrEqual(addDays(today, ACCEPTANCE_LEAD_DAYS)) }, select, order: { riskAcceptanceExpiresOn: 'ASC', id: 'ASC' } }),
    ]);
    const vendors = await byIds((ids) => ctx.ds.getRepository(Vendor).find({ where: { id: In(ids) }, select: ['id', 'legalName', 'businessOwnerId', 'status'] }), [...overdue, ...accepted].map((f) => f.vendorId));
    const out: PlannedReminder[] = [];
    for (const f of overdue) {
      const v = vendors.get(f.vendorId);
      if (!v || v.status === 'terminated') continue;
      const late = daysBetween(f.dueDate!, today);
      const n = Math.floor((late - 1) / OVERDUE_EVERY_DAYS);
      for (const user of staff.ownerOr(f.ownerId ?? v.businessOwnerId, 'reviewer')) {
        out.push(
          staffReminder(input, user, {
            key: `finding-overdue:${f.id}:${f.dueDate}:${n}`,
            rule: 'finding-overdue',
            vendorId: f.vendorId,
            subjectType: 'finding',
            subjectId: f.id,
            occurrence: `overdue-${n}`,
            summary: `${v.legalName}: ${f.severity} finding "${f.title}" (${f.citation}) is ${late} day${late === 1 ? '' : 's'} past its remediation date ${f.dueDate}`,
            path: `/findings/${f.id}`,
            dueOn: f.dueDate,
            notice: {
              kind: 'reminder-finding-overdue',
              subject: `Finding past its remediation date: ${v.legalName}, "${f.title}"`,
              lines: [
                `The ${f.severity} finding "${f.title}" (${f.citation}) on ${v.legalName} was to be remediated by ${f.dueDate} and is still open, ${late} day${late === 1 ? '' : 's'} late.`,
                'Record progress, resolve it, set a new date with a reason, or ask for the risk to be accepted.',
              ],
              actionLabel: 'Open the finding',
            },
          }),
        );
      }
    }
    for (const f of accepted) {
      const v = vendors.get(f.vendorId);
      if (!v || v.status === 'terminated') continue;
      const expires = f.riskAcceptanceExpiresOn!;
      const lapsed = expires < today;
      for (const user of staff.ownerOr(f.ownerId ?? f.riskAcceptedById, 'reviewer')) {
        out.push(
          staffReminder(input, user, {
            key: `risk-acceptance-${lapsed ? 'lapsed' : 'expiring'}:${f.id}:${expires}`,
            rule: 'risk-acceptance-expiring',
            vendorId: f.vendorId,
            subjectType: 'finding',
            subjectId: f.id,
            occurrence: lapsed ? 'lapsed' : 'expiring',
            summary: `${v.legalName}: risk acceptance of "${f.title}" ${lapsed ? 'lapsed' : 'lapses'} on ${expires}`,
            path: `/findings/${f.id}`,
            dueOn: expires,
            notice: {
              kind: 'reminder-risk-acceptance-expiring',
              subject: `Risk acceptance ${lapsed ? 'lapsed' : `lapses ${expires}`}: ${v.legalName}, "${f.title}"`,
              lines: [
                `The accepted risk of the ${f.severity} finding "${f.title}" (${f.citation}) on ${v.legalName} ${lapsed ? 'lapsed' : 'lapses'} on ${expires}.`,
                'Decide whether to remediate it, or to accept it again with a new reason and expiry date (by an approver other than its creator).',
              ],
              actionLabel: 'Open the finding',
            },
          }),
        );
      }
    }
    return out;
  },
};
