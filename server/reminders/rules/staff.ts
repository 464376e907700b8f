import type { User } from '../../accounts/entities';
import { staffReminderEmail, type StaffNotice } from '../../mail/messages/reminders';
import { asRecipient, type PlannedReminder, type RuleInput } from './types';

/** A reminder to a colleague: the notice mailed on its own, or gathered into the digest by the sweep. */
export function staffReminder(
  input: RuleInput,
  user: Pick<User, 'id' | 'email' | 'name'>,
  r: { key: string; rule: string; vendorId: number | null; subjectType: string; subjectId: number; occurrence: string; summary: string; path: string; dueOn: string | null; notice: Omit<StaffNotice, 'url'> },
): PlannedReminder {
  const base = input.ctx.config.baseUrl;
  const url = `${base}${r.path}`;
  return {
    key: `${r.key}:u${user.id}`,
    rule: r.rule,
    vendorId: r.vendorId,
    subjectType: r.subjectType,
    subjectId: r.subjectId,
    occurrence: r.occurrence,
    recipient: asRecipient(user),
    summary: r.summary,
    url,
    dueOn: r.dueOn,
    internal: true,
    deliver: async () =>
      staffReminderEmail({ to: user.email, name: user.name, notice: { ...r.notice, url }, organizationName: input.ctx.config.organizationName, accountUrl: `${base}/account` }),
  };
}
