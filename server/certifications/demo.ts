import { IsNull } from 'typeorm';
import type { User } from '../accounts/entities';
import { type Actor, systemActor } from '../audit/service';
import { DAY, ManualClock } from '../clock';
import { deriveKey } from '../config';
import type { Context } from '../context';
import { Questionnaire } from '../questionnaires/entities';
import { CertificationLink } from './entities';
import { addDays, CertificationService } from './service';

/** A small PDF standing in for a certification signed on paper. */
const SIGNED_PDF = Buffer.from('%PDF-1.4\n% Demo: certification signed on paper, scanned\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');

type Plan = 'signed' | 'expiring' | 'expired' | 'requested' | 'uploaded' | 'confirmed' | 'declined' | 'revoked' | 'disposal';

/** Which demo vendor shows which state; every status of a certification appears once at least. */
const PLAN: Record<string, Plan> = {
  'Northwind Payroll Inc.': 'signed',
  'Ironclad Backup Services': 'signed',
  'Summit Card Processing LLC': 'expiring',
  'Bluefin Benefits Administration LLC': 'expired',
  'Cedar Background Screening Co.': 'requested',
  'Harbor Document Shredding': 'uploaded',
  'Redwood HR Systems': 'confirmed',
  'Coastal Records Storage': 'declined',
  'Keystone IT Support': 'revoked',
  'Prairie Relocation Services': 'disposal',
};

/**
 * Certifications in every state for the new demo vendors: in force, expiring, expired (signed in the
 * past, on a clock set back), requested, uploaded and waiting, confirmed, declined, withdrawn, and
 * the disposal certificate of the offboarding vendor. Their emails go to .example addresses.
 */
export async function seedCertifications(ctx: Context, vendors: { id: number; name: string }[], sender: User | null): Promise<void> {
  const annual = ctx.certificationTemplates.forPurpose('annual');
  const disposal = ctx.certificationTemplates.forPurpose('disposal');
  if (!annual || !disposal) return;
  const actor: Actor = sender ? { type: 'user', id: sender.id, label: sender.email, ip: null } : systemActor('demo');
  const now = ctx.clock.now().getTime();
  /** The certification service on a clock set `days` back, so signatures can lie in the past. */
  const at = (days: number) =>
    new CertificationService({
      ds: ctx.ds,
      transact: ctx.transact,
      clock: new ManualClock(new Date(now - days * DAY)),
      templates: ctx.certificationTemplates,
      evidence: ctx.evidence,
      mailKey: ctx.mailKey,
      mailQueued: () => ctx.mail.kick(),
      baseUrl: ctx.config.baseUrl,
      organizationName: ctx.config.organizationName,
      linkKey: deriveKey(ctx.config, 'certification-links'),
    });
  const from = { ip: '198.51.100.23', userAgent: 'Mozilla/5.0 (demo data)' };

  for (const v of vendors) {
    const plan = PLAN[v.name];
    if (!plan) continue;
    const contact = (await ctx.vendors.contacts(v.id)).find((c) => c.isSecurityContact);
    if (!contact) continue;
    const requestedDaysAgo = { signed: 160, expiring: 360, expired: 410, requested: 10, uploaded: 12, confirmed: 8, declined: 20, revoked: 25, disposal: 6 }[plan];
    const service = at(requestedDaysAgo);
    const questionnaire = plan === 'confirmed' ? await ctx.ds.getRepository(Questionnaire).findOne({ where: { vendorId: v.id }, select: ['id'] }) : null;
    const { certification: c } = await service.request(actor, {
      vendorId: v.id,
      contactId: contact.id,
      templateId: plan === 'disposal' ? disposal.id : annual.id,
      dueDate: addDays(service.today(), 30),
      questionnaireId: questionnaire?.id ?? null,
    });
    if (plan === 'requested' || plan === 'disposal') continue;
    if (plan === 'revoked') {
      await at(requestedDaysAgo - 3).revoke(actor, c.id, 'Sent to a contact who has since left the vendor.');
      continue;
    }
    const link = await ctx.ds.getRepository(CertificationLink).findOneByOrFail({ certificationId: c.id, replacedAt: IsNull() });
    const later = at(requestedDaysAgo - 4);
    const vendorActor = later.vendorActor(c, link, from.ip);
    const [first] = contact.name.split(' ');
    const signer = { signerName: contact.name, signerTitle: contact.role ?? 'Security lead', signerCompany: v.name };
    if (plan === 'declined') {
      await later.decline(vendorActor, c.id, link, { name: contact.name, reason: 'Our master agreement predates the security addendum; legal is reviewing the wording first.' }, from);
    } else if (plan === 'uploaded' || plan === 'confirmed') {
      await later.upload(vendorActor, c.id, link, signer, { originalName: `signed-certification-${first?.toLowerCase() ?? 'vendor'}.pdf`, buffer: SIGNED_PDF }, from);
      if (plan === 'confirmed') await at(requestedDaysAgo - 5).confirmUpload(actor, c.id);
    } else {
      await later.sign(vendorActor, c.id, link, { ...signer, signature: contact.name, textSha256: c.textSha256 }, from);
    }
    if (plan === 'expiring') {
      // The renewal is already on its way.
      await at(2).request(actor, { vendorId: v.id, contactId: contact.id, templateId: annual.id });
    }
  }
}
