import { In, LessThanOrEqual, MoreThanOrEqual, Not } from 'typeorm';
import { systemActor } from '../../audit/service';
import { addDays } from '../../dates';
import { Questionnaire } from '../../questionnaires/entities';
import { Vendor, VendorContact } from '../../vendors/entities';
import { staffReminder } from './staff';
import { type PlannedReminder, type ReminderRule, SkipReminder } from './types';

export const REASSESSMENT_TEMPLATE = 'annual-reassessment';
/** At least this many days to answer a reassessment sent late (after days the portal was down, say). */
const MIN_ANSWER_DAYS = 14;

/**
 * Reassessment: REASSESSMENT_LEAD_DAYS (30) before an active vendor's next reassessment date, the
 * annual-reassessment questionnaire goes to its security contact by itself, or, when the vendor is
 * set so (or has no security contact), its business owner is told to send it. Once per cycle: the
 * key holds the reassessment date, which approval moves a cycle on.
 */
export const reassessmentReminders: ReminderRule = {
  name: 'reassessment',
  description: 'Reassessment due: REASSESSMENT_LEAD_DAYS before the next reassessment date, the annual-reassessment questionnaire is sent to the security contact (or the business owner is told, if the vendor is set so).',
  async plan(input) {
    const { ctx, today } = input;
    const lead = ctx.config.reminders.reassessmentLeadDays;
    const vendors = await ctx.ds.getRepository(Vendor).find({
      where: { status: 'active', nextReassessmentOn: LessThanOrEqual(addDays(today, lead)) },
      select: ['id', 'legalName', 'nextReassessmentOn', 'businessOwnerId', 'reassessmentStart'],
      order: { nextReassessmentOn: 'ASC', id: 'ASC' },
    });
    if (!vendors.length) return [];
    const ids = vendors.map((v) => v.id);
    const contacts = new Map<number, VendorContact>();
    const inProgress = new Set<number>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      for (const c of await ctx.ds.getRepository(VendorContact).find({ where: { vendorId: In(chunk), isSecurityContact: true }, select: ['id', 'vendorId', 'name', 'email'] })) contacts.set(c.vendorId, c);
      // A questionnaire sent inside this cycle's lead window (by hand or by an earlier sweep) is the reassessment.
      const earliest = addDays(today, -lead - 366);
      const open = await ctx.ds.getRepository(Questionnaire).find({ where: { vendorId: In(chunk), status: Not(In(['revoked', 'rejected'])), dueDate: MoreThanOrEqual(earliest) }, select: ['id', 'vendorId', 'sentAt', 'status'] });
      const byVendor = new Map(vendors.map((v) => [v.id, v]));
      for (const q of open) {
        const v = byVendor.get(q.vendorId)!;
        const windowStart = addDays(v.nextReassessmentOn!, -lead);
        if (q.sentAt.toISOString().slice(0, 10) >= windowStart && q.status !== 'approved') inProgress.add(q.vendorId);
      }
    }
    const template = ctx.templates.get(REASSESSMENT_TEMPLATE);
    const out: PlannedReminder[] = [];
    for (const v of vendors) {
      if (inProgress.has(v.id)) continue;
      const due = v.nextReassessmentOn!;
      const key = `reassessment:${v.id}:${due}`;
      const contact = contacts.get(v.id);
      if (v.reassessmentStart === 'send' && contact && template) {
        const dueDate = due > addDays(today, MIN_ANSWER_DAYS) ? due : addDays(today, MIN_ANSWER_DAYS);
        out.push({
          key,
          rule: 'reassessment-sent',
          vendorId: v.id,
          subjectType: 'vendor',
          subjectId: v.id,
          occurrence: due,
          recipient: { email: contact.email, name: contact.name, userId: null },
          summary: `${v.legalName}: reassessment due ${due}; "${template.template.title}" sent to ${contact.email}, due ${dueDate}`,
          url: `${ctx.config.baseUrl}/vendors/${v.id}`,
          dueOn: dueDate,
          internal: false,
          deliver: async (m) => {
            const current = await m.findOne(Vendor, { where: { id: v.id, status: 'active', nextReassessmentOn: due } });
            if (!current) throw new SkipReminder('vendor changed since planning');
            await ctx.questionnaires.sendIn(m, systemActor('reminders'), { vendorId: v.id, contactId: contact.id, templateId: REASSESSMENT_TEMPLATE, dueDate });
            return null;
          },
        });
        continue;
      }
      const reason =
        v.reassessmentStart === 'notify_owner'
          ? 'This vendor is set to have its business owner start the reassessment.'
          : !contact
            ? 'It was not sent automatically because the vendor has no security contact; add one, or send it to another contact.'
            : `It was not sent automatically because the "${REASSESSMENT_TEMPLATE}" template is missing or invalid; an administrator can check it on the templates page.`;
      for (const user of input.staff.ownerOr(v.businessOwnerId, 'procurement')) {
        out.push(
          staffReminder(input, user, {
            key,
            rule: 'reassessment-owner',
            vendorId: v.id,
            subjectType: 'vendor',
            subjectId: v.id,
            occurrence: due,
            summary: `${v.legalName}: reassessment due ${due}; send the annual-reassessment questionnaire`,
            path: `/vendors/${v.id}`,
            dueOn: due,
            notice: {
              kind: 'reminder-reassessment-due',
              subject: `Reassessment due ${due}: ${v.legalName}`,
              lines: [
                `${v.legalName} is due for its periodic reassessment on ${due} (201 CMR 17.03(2)(f) asks that service providers be overseen; we reassess on a cycle set by the vendor's risk tier).`,
                reason,
                'Send the annual-reassessment questionnaire from the vendor page.',
              ],
              actionLabel: 'Open the vendor',
            },
          }),
        );
      }
    }
    return out;
  },
};
