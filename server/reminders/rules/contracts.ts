import { contractDueDates } from '../../contracts/due-dates';
import { NOTICE_LEAD_DAYS } from '../../contracts/labels';
import { staffReminder } from './staff';
import type { PlannedReminder, ReminderRule } from './types';

const OVERDUE_EVERY_DAYS = 7;

/**
 * Contracts: an active contract whose notice deadline (expiry less the notice period) is within 30
 * days tells legal, again when the deadline passes and when the contract expires; an open amendment
 * past its target date tells its owner, every 7 days.
 */
export const contractReminders: ReminderRule = {
  name: 'contracts',
  description: `Contract expiry inside its notice period plus a ${NOTICE_LEAD_DAYS}-day lead, to legal; amendment past its target date to its owner, every 7 days.`,
  async plan(input) {
    const { ctx, today, staff } = input;
    const due = await contractDueDates(ctx, today);
    const legal = staff.withRole('legal').length ? staff.withRole('legal') : staff.withRole('admin');
    const out: PlannedReminder[] = [];
    for (const c of due.contracts) {
      const what =
        c.state === 'expired'
          ? `expired on ${c.expiresOn} and is still marked active`
          : c.state === 'notice_passed'
            ? `expires on ${c.expiresOn}; the ${c.noticeDays}-day notice deadline (${c.noticeDeadline}) has passed`
            : `expires on ${c.expiresOn}; notice of ${c.noticeDays} days must be given by ${c.noticeDeadline}`;
      for (const user of legal) {
        out.push(
          staffReminder(input, user, {
            key: `${c.key}:${c.state}`,
            rule: 'contract-notice',
            vendorId: c.vendorId,
            subjectType: 'contract',
            subjectId: c.contractId,
            occurrence: c.state,
            summary: `${c.vendorName}: contract "${c.title}" ${what}`,
            path: `/contracts/${c.contractId}`,
            dueOn: c.state === 'notice_due' ? c.noticeDeadline : c.expiresOn,
            notice: {
              kind: 'reminder-contract-notice',
              subject: c.state === 'expired' ? `Contract expired: ${c.vendorName}, "${c.title}"` : `Notice deadline ${c.noticeDeadline}: ${c.vendorName}, "${c.title}"`,
              lines: [
                `The contract "${c.title}" with ${c.vendorName} ${what}.`,
                c.autoRenews
                  ? 'It renews automatically unless notice is given: decide now whether to renew, renegotiate (for example to add missing clauses) or end it.'
                  : c.state === 'expired'
                    ? 'Record its renewal, or mark it expired or terminated, so the clause coverage reflects the contracts in force.'
                    : 'It does not renew by itself: arrange a renewal or the end of the relationship before it expires.',
              ],
              actionLabel: 'Open the contract',
            },
          }),
        );
      }
    }
    for (const a of due.amendments) {
      const n = Math.floor((a.daysOverdue - 1) / OVERDUE_EVERY_DAYS);
      for (const user of staff.ownerOr(a.ownerId, 'legal')) {
        out.push(
          staffReminder(input, user, {
            key: `${a.key}:${n}`,
            rule: 'amendment-overdue',
            vendorId: a.vendorId,
            subjectType: 'amendment',
            subjectId: a.amendmentId,
            occurrence: `overdue-${n}`,
            summary: `${a.vendorName}: amendment "${a.title}" is ${a.daysOverdue} day${a.daysOverdue === 1 ? '' : 's'} past its target date ${a.targetDate}`,
            path: `/contracts/amendments/${a.amendmentId}`,
            dueOn: a.targetDate,
            notice: {
              kind: 'reminder-amendment-overdue',
              subject: `Amendment past its target date: ${a.vendorName}, "${a.title}"`,
              lines: [
                `The amendment "${a.title}" with ${a.vendorName} was to be agreed by ${a.targetDate} and is still open (${a.daysOverdue} day${a.daysOverdue === 1 ? '' : 's'} late).`,
                'Record where the negotiation stands, or set a new target date.',
              ],
              actionLabel: 'Open the amendment',
            },
          }),
        );
      }
    }
    return out;
  },
};
