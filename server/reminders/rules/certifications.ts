import { In } from 'typeorm';
import { systemActor } from '../../audit/service';
import { certificationDueDates, type CertificationDue } from '../../certifications/due-dates';
import { Certification } from '../../certifications/entities';
import { addDays } from '../../dates';
import { certificationRenewalDueEmail } from '../../mail/messages/reminders';
import { Vendor, VendorContact } from '../../vendors/entities';
import { staffReminder } from './staff';
import { type BatchRead, type PlannedReminder, type ReminderRule, type RuleInput, SkipReminder } from './types';

/** What a reminder about an unsigned renewal needs of it. */
type Renewal = Pick<Certification, 'id' | 'vendorId' | 'purpose' | 'title' | 'recipientEmail' | 'recipientName' | 'dueDate'>;

const STAGE_WORDS: Record<CertificationDue['stage'], string> = { within_30_days: '30d', within_7_days: '7d', expired: 'expired' };

/**
 * Certifications: when a vendor's current certification comes within 30 days of its last day, a
 * renewal is requested from the same contact (once); at 30 days, 7 days and on expiry legal is told,
 * and from 7 days the vendor is reminded of the renewal awaiting its signature.
 */
export const certificationReminders: ReminderRule = {
  name: 'certifications',
  description: 'Certification expiring in 30 and 7 days, and expired: a renewal is requested from the vendor, legal is told, and the vendor is reminded of an unsigned renewal.',
  async plan(input) {
    const { ctx, today } = input;
    const due = await certificationDueDates(ctx, today);
    const all = [...due.within30Days, ...due.within7Days, ...due.expired];
    if (!all.length) return [];
    const vendorIds = [...new Set(all.map((c) => c.vendorId))];
    const rows = new Map<number, Pick<Certification, 'id' | 'contactId'>>();
    const renewals = new Map<string, Renewal>();
    const owners = new Map<number, number | null>();
    const securityContacts = new Map<number, number>();
    for (let i = 0; i < all.length; i += 500) {
      for (const c of await ctx.ds.getRepository(Certification).find({ where: { id: In(all.slice(i, i + 500).map((c) => c.certificationId)) }, select: ['id', 'contactId'] })) rows.set(c.id, c);
    }
    for (let i = 0; i < vendorIds.length; i += 500) {
      const chunk = vendorIds.slice(i, i + 500);
      for (const r of await ctx.ds.getRepository(Certification).find({ where: { vendorId: In(chunk), status: 'requested' }, select: ['id', 'vendorId', 'purpose', 'title', 'recipientEmail', 'recipientName', 'dueDate'], order: { id: 'ASC' } })) renewals.set(`${r.vendorId}:${r.purpose}`, r);
      for (const v of await ctx.ds.getRepository(Vendor).find({ where: { id: In(chunk) }, select: ['id', 'businessOwnerId'] })) owners.set(v.id, v.businessOwnerId);
      for (const c of await ctx.ds.getRepository(VendorContact).find({ where: { vendorId: In(chunk), isSecurityContact: true }, select: ['id', 'vendorId'] })) securityContacts.set(c.vendorId, c.id);
    }
    const out: PlannedReminder[] = [];
    for (const c of all) {
      const stage = STAGE_WORDS[c.stage];
      const contactId = rows.get(c.certificationId)?.contactId ?? securityContacts.get(c.vendorId) ?? null;
      const renewal = renewals.get(`${c.vendorId}:${c.purpose}`);
      const when = c.daysLeft < 0 ? `expired on ${c.expiresOn}` : `expires on ${c.expiresOn}`;
      if (!c.renewalRequested && contactId) out.push(renewalRequest(input, c, contactId));
      if (renewal && c.stage !== 'within_30_days') out.push(renewalReminder(input, c, renewal, stage));
      for (const user of input.staff.withRole('legal').length ? input.staff.withRole('legal') : input.staff.ownerOr(owners.get(c.vendorId), 'admin')) {
        out.push(
          staffReminder(input, user, {
            key: `certification-${stage}:${c.certificationId}:${c.expiresOn}`,
            rule: 'certification-expiring',
            vendorId: c.vendorId,
            subjectType: 'certification',
            subjectId: c.certificationId,
            occurrence: stage,
            summary: `${c.vendorName}: "${c.title}" ${when}${renewal || c.renewalRequested ? '; renewal requested, not signed yet' : contactId ? '; renewal requested today' : '; no contact to request a renewal from'}`,
            path: `/certifications/${c.certificationId}`,
            dueOn: c.expiresOn,
            notice: {
              kind: 'reminder-certification-expiring',
              subject: `Certification ${c.daysLeft < 0 ? 'expired' : `expires ${c.expiresOn}`}: ${c.vendorName}`,
              lines: [
                `The certification "${c.title}" of ${c.vendorName} ${when}.`,
                renewal || c.renewalRequested
                  ? 'A renewal has been requested from the vendor and is not signed yet.'
                  : contactId
                    ? `A renewal has been requested from ${c.recipientEmail} automatically.`
                    : 'The vendor has no contact to request a renewal from; add one and request it from the vendor page.',
                'Certifications are kept as contractual evidence and good practice; 201 CMR 17.03(2)(f) itself asks for oversight and contractual safeguards.',
              ],
              actionLabel: 'Open the certification',
            },
          }),
        );
      }
    }
    return out;
  },
};

function renewalRequest(input: RuleInput, c: CertificationDue, contactId: number): PlannedReminder {
  const { ctx, today } = input;
  const dueDate = c.expiresOn > addDays(today, 7) ? c.expiresOn : addDays(today, 14);
  return {
    key: `certification-renewal:${c.certificationId}`,
    rule: 'certification-renewal',
    vendorId: c.vendorId,
    subjectType: 'certification',
    subjectId: c.certificationId,
    occurrence: 'renewal',
    recipient: { email: c.recipientEmail, name: c.recipientEmail, userId: null },
    summary: `${c.vendorName}: renewal of "${c.title}" (${c.daysLeft < 0 ? 'expired' : 'expires'} ${c.expiresOn}) requested, due ${dueDate}`,
    url: `${ctx.config.baseUrl}/vendors/${c.vendorId}`,
    dueOn: dueDate,
    internal: false,
    deliver: async (m) => {
      const open = await m.count(Certification, { where: { vendorId: c.vendorId, purpose: c.purpose, status: In(['requested', 'uploaded']) } });
      if (open > 0) throw new SkipReminder('a renewal is already open');
      await ctx.certifications.requestIn(m, systemActor('reminders'), { vendorId: c.vendorId, contactId, templateId: c.templateId, dueDate });
      return null;
    },
  };
}

function renewalReminder(input: RuleInput, c: CertificationDue, renewal: Renewal, stage: string): PlannedReminder {
  const { ctx } = input;
  return {
    key: `certification-renewal-${stage}:${renewal.id}:${c.expiresOn}`,
    rule: 'certification-renewal-reminder',
    vendorId: c.vendorId,
    subjectType: 'certification',
    subjectId: renewal.id,
    occurrence: stage,
    recipient: { email: renewal.recipientEmail, name: renewal.recipientName, userId: null },
    summary: `${c.vendorName}: reminder to ${renewal.recipientEmail} to sign "${renewal.title}" (current one ${c.daysLeft < 0 ? 'expired' : 'expires'} ${c.expiresOn})`,
    url: `${ctx.config.baseUrl}/certifications/${renewal.id}`,
    dueOn: renewal.dueDate,
    internal: false,
    reads: [{ read: renewalAtSending(input), id: renewal.id }],
    deliver: async (_m, reads) => {
      const current = await reads.get(renewalAtSending(input), renewal.id);
      if (!current) throw new SkipReminder('renewal no longer awaiting signature');
      const link = current.link;
      if (!link) throw new SkipReminder('no live link');
      return certificationRenewalDueEmail({
        to: renewal.recipientEmail,
        name: renewal.recipientName,
        vendorName: c.vendorName,
        title: renewal.title,
        dueDate: renewal.dueDate,
        link,
        contactName: ctx.config.organizationName,
        contactEmail: null,
        organizationName: ctx.config.organizationName,
        expiresOn: c.expiresOn,
        daysLeft: c.daysLeft,
      });
    },
  };
}

const renewalReads = new WeakMap<RuleInput, BatchRead<{ link: string | null }>>();

/** A renewal still awaiting signature, with its vendor link, read for a batch of reminders at sending (one read per sweep's input, so the batch shares it). */
function renewalAtSending(input: RuleInput): BatchRead<{ link: string | null }> {
  let read = renewalReads.get(input);
  if (!read) {
    const { ctx } = input;
    read = {
      async load(m, ids) {
        // One batch's ids: a few hundred at most.
        const requested = await m.find(Certification, { where: { id: In(ids), status: 'requested' }, select: ['id'] });
        const links = await ctx.certifications.currentLinks(m, requested.map((c) => c.id));
        return new Map(requested.map((c) => [c.id, { link: links.get(c.id) ?? null }]));
      },
    };
    renewalReads.set(input, read);
  }
  return read;
}
