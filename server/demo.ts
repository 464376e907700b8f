import { In, IsNull } from 'typeorm';
import { User } from './accounts/entities';
import { systemActor } from './audit/service';
import { seedCertifications } from './certifications/demo';
import type { Context } from './context';
import { seedContracts } from './contracts/demo';
import { QuestionnaireLink } from './questionnaires/entities';
import type { TemplateSection } from './questionnaires/template';
import { Vendor } from './vendors/entities';
import { addMonths, type AccessMode, type MaResidents, type PiElement, type VendorStatus, type VolumeBand } from './vendors/risk';
import { nameKey } from './vendors/service';

interface DemoVendor {
  name: string;
  trading?: string;
  services: string;
  status: VendorStatus;
  pi: PiElement[];
  ma?: MaResidents;
  volume: VolumeBand;
  access: AccessMode[];
  location?: string;
  /** Months ago the last assessment was made; undefined: never assessed. */
  assessedMonthsAgo?: number;
  contact?: [string, string, string];
  subprocessors?: [string, string][];
}

/** A varied, fictional portfolio: every tier, status and assessment state appears. */
const DEMO: DemoVendor[] = [
  { name: 'Northwind Payroll Inc.', trading: 'Northwind', services: 'Payroll processing and tax filing', status: 'active', pi: ['ssn', 'financialAccount'], volume: '10k_100k', access: ['stores', 'processes', 'transmits'], location: 'AWS us-east-1', assessedMonthsAgo: 5, contact: ['Amara Okafor', 'security@northwind-payroll.example', 'CISO'], subprocessors: [['Amazon Web Services', 'Hosting'], ['Postmark', 'Payslip email delivery']] },
  { name: 'Summit Card Processing LLC', services: 'Card payment processing for the online shop', status: 'active', pi: ['financialAccount'], volume: 'over_1m', access: ['stores', 'processes', 'transmits'], location: 'Vendor data centres, Virginia and Ohio', assessedMonthsAgo: 7, contact: ['Luis Romero', 'infosec@summitcard.example', 'Head of Security'] },
  { name: 'Bluefin Benefits Administration LLC', services: 'Health and retirement benefits administration', status: 'active', pi: ['ssn'], volume: '10k_100k', access: ['stores', 'processes'], location: 'Azure East US', assessedMonthsAgo: 11, contact: ['Grace Kim', 'grace.kim@bluefin-benefits.example', 'Security Manager'] },
  { name: 'Cedar Background Screening Co.', services: 'Pre-employment background checks', status: 'active', pi: ['ssn', 'driversLicense'], volume: '1k_10k', access: ['stores', 'processes'], assessedMonthsAgo: 14, contact: ['Tom Becker', 'privacy@cedarscreening.example', 'Privacy Officer'] },
  { name: 'Trident Biometric Timeclocks', services: 'Fingerprint time clocks in the warehouses', status: 'active', pi: ['biometric'], volume: 'under_1k', access: ['stores'], location: 'On devices and vendor cloud', assessedMonthsAgo: 2, contact: ['Nadia Haddad', 'nadia@tridentclocks.example', 'Product Security'] },
  { name: 'Harbor Document Shredding', services: 'On-site shredding of paper records', status: 'active', pi: ['ssn', 'financialAccount'], volume: '1k_10k', access: ['paper'], assessedMonthsAgo: 9, contact: ['Ray Dolan', 'ray@harborshred.example', 'Operations'] },
  { name: 'Coastal Records Storage', services: 'Off-site archive boxes', status: 'active', pi: ['ssn'], volume: '100k_1m', access: ['paper', 'stores'], location: 'Warehouse in Worcester, MA', assessedMonthsAgo: 13, contact: ['Ellen Price', 'eprice@coastalrecords.example', 'Compliance'] },
  { name: 'Keystone IT Support', services: 'Helpdesk with remote access to staff laptops', status: 'active', pi: ['ssn'], volume: '1k_10k', access: ['views'], assessedMonthsAgo: 4, contact: ['Victor Mensah', 'soc@keystone-it.example', 'SOC lead'] },
  { name: 'Atlas Mailing Services', services: 'Printing and mailing of tax forms', status: 'active', pi: ['ssn'], volume: '10k_100k', access: ['transmits', 'processes'], assessedMonthsAgo: 12, contact: ['Ines Duarte', 'ines@atlasmail.example', 'IT Manager'] },
  { name: 'Redwood HR Systems', services: 'HR information system (SaaS)', status: 'active', pi: ['ssn', 'driversLicense', 'financialAccount'], volume: '1k_10k', access: ['stores', 'processes'], location: 'Google Cloud us-central1', assessedMonthsAgo: 1, contact: ['Priyanka Rao', 'trust@redwoodhr.example', 'Trust & Safety'], subprocessors: [['Google Cloud', 'Hosting'], ['Twilio', 'SMS two-factor codes']] },
  { name: 'Willow Tax Preparation', services: 'Expatriate staff tax returns', status: 'active', pi: ['ssn', 'financialAccount'], volume: 'under_1k', access: ['stores', 'processes'], assessedMonthsAgo: 6, contact: ['Omar Farouk', 'omar@willowtax.example', 'Partner'] },
  { name: 'Beacon Identity Verification', services: 'ID document checks at customer sign-up', status: 'active', pi: ['driversLicense', 'biometric'], volume: '100k_1m', access: ['processes', 'stores'], location: 'EU and US regions', assessedMonthsAgo: 3, contact: ['Sofia Lind', 'security@beacon-id.example', 'CISO'] },
  { name: 'Granite Collections Agency', services: 'Collection of overdue customer accounts', status: 'active', pi: ['ssn', 'financialAccount'], volume: '10k_100k', access: ['stores', 'processes', 'transmits'], assessedMonthsAgo: 16, contact: ['Frank Miller', 'compliance@granitecollect.example', 'Compliance Officer'] },
  { name: 'Ironclad Backup Services', services: 'Encrypted off-site backups of the finance servers', status: 'active', pi: ['ssn', 'financialAccount'], volume: '100k_1m', access: ['stores'], location: 'Backblaze B2, us-west', assessedMonthsAgo: 5, contact: ['Hana Sato', 'hana@ironclad-backup.example', 'Security Engineer'], subprocessors: [['Backblaze', 'Object storage']] },
  { name: 'Evergreen Insurance Brokers', services: 'Workers compensation insurance', status: 'active', pi: ['ssn'], volume: '1k_10k', access: ['stores'], assessedMonthsAgo: 10, contact: ['Paul Nguyen', 'pnguyen@evergreen-ins.example', 'Account Manager'] },
  { name: 'Nimbus Email Delivery', services: 'Transactional email for customer statements', status: 'active', pi: ['financialAccount'], volume: 'over_1m', access: ['transmits'], assessedMonthsAgo: 8, contact: ['Lea Fischer', 'security@nimbusmail.example', 'Security'] },
  { name: 'Orchard Benefits Enrollment', services: 'Open enrolment call centre', status: 'onboarding', pi: ['ssn'], volume: '1k_10k', access: ['views', 'processes'], contact: ['Maya Cohen', 'maya@orchard-enroll.example', 'Director'] },
  { name: 'Vista Call Center Solutions', services: 'Overflow customer service', status: 'onboarding', pi: ['financialAccount'], volume: '10k_100k', access: ['views'], contact: ['Jon Baptiste', 'jbaptiste@vistacc.example', 'IT Security'] },
  { name: 'Quill Legal eDiscovery', services: 'Document review for litigation', status: 'onboarding', pi: ['ssn', 'driversLicense'], ma: 'unknown', volume: '10k_100k', access: ['stores', 'processes'] },
  { name: 'Sequoia Security Monitoring', services: 'Managed detection and response', status: 'prospect', pi: ['ssn'], volume: '1k_10k', access: ['views'], contact: ['Ava Martin', 'ava@sequoia-mdr.example', 'Solutions Engineer'] },
  { name: 'Tundra Data Analytics', services: 'Customer churn analysis', status: 'prospect', pi: ['financialAccount'], ma: 'unknown', volume: '100k_1m', access: ['processes'] },
  { name: 'Lighthouse Translation Services', services: 'Translation of customer letters', status: 'prospect', pi: ['financialAccount'], volume: 'under_1k', access: ['views', 'transmits'] },
  { name: 'Juniper Travel Management', services: 'Business travel booking', status: 'active', pi: ['driversLicense'], volume: 'under_1k', access: ['stores'], assessedMonthsAgo: 11, contact: ['Kenji Watanabe', 'kenji@junipertravel.example', 'Account Lead'] },
  { name: 'Prairie Relocation Services', services: 'Employee relocation', status: 'offboarding', pi: ['ssn', 'financialAccount'], volume: 'under_1k', access: ['stores'], assessedMonthsAgo: 20, contact: ['Beth Olsen', 'beth@prairiemove.example', 'Operations'] },
  { name: 'Pioneer Print & Mail', services: 'Former statement printing vendor', status: 'terminated', pi: ['financialAccount'], volume: '10k_100k', access: ['processes'], assessedMonthsAgo: 26 },
  { name: 'Maple Marketing Analytics', services: 'Website traffic analytics (no personal information)', status: 'active', pi: [], volume: 'none', access: [], contact: ['Chloe Dubois', 'chloe@maple-analytics.example', 'Account Manager'] },
  { name: 'Kestrel Customer Surveys', services: 'Anonymous satisfaction surveys', status: 'active', pi: [], volume: 'none', access: [] },
  { name: 'Meridian Office Cleaning', services: 'Office cleaning; no access to records', status: 'active', pi: [], volume: 'none', access: [] },
  { name: 'Union Street Catering', services: 'Event catering', status: 'terminated', pi: [], volume: 'none', access: [] },
  { name: 'Osprey Payroll Europe GmbH', services: 'Payroll for the Berlin office', status: 'active', pi: ['financialAccount'], ma: 'no', volume: 'under_1k', access: ['stores', 'processes'], assessedMonthsAgo: 6, contact: ['Jonas Weber', 'jonas.weber@osprey-payroll.example', 'DPO'] },
];

/**
 * Fills the database with the demo portfolio; vendors that already exist (by legal name) are
 * left alone, so running it twice changes nothing. Existing active users become business owners.
 */
export async function seedDemo(ctx: Context): Promise<{ created: number; skipped: number }> {
  const actor = systemActor('demo');
  const existing = new Set(
    (await ctx.ds.getRepository(Vendor).find({ where: { legalNameKey: In(DEMO.map((d) => nameKey(d.name))) }, select: ['legalNameKey'] })).map((v) => v.legalNameKey),
  );
  const owners = await ctx.ds.getRepository(User).find({ where: { active: true, role: In(['admin', 'procurement']) }, order: { id: 'ASC' } });
  const today = ctx.vendors.today();
  let created = 0;
  const fresh: { id: number; name: string }[] = [];
  for (const [i, d] of DEMO.entries()) {
    if (existing.has(nameKey(d.name))) continue;
    const v = await ctx.vendors.create(
      actor,
      {
        legalName: d.name,
        tradingName: d.trading ?? null,
        website: `https://www.${d.name.toLowerCase().replace(/[^a-z]+/g, '').slice(0, 20)}.example`,
        services: d.services,
        status: d.status,
        businessOwnerId: owners.length ? owners[i % owners.length]!.id : null,
        notes: null,
        piElements: d.pi,
        maResidents: d.ma ?? 'yes',
        recordVolume: d.volume,
        accessModes: d.access,
        dataLocation: d.location ?? null,
        lastAssessedOn: d.assessedMonthsAgo === undefined ? null : addMonths(today, -d.assessedMonthsAgo),
      },
      d.contact ? [{ name: d.contact[0], email: d.contact[1], role: d.contact[2], isSecurityContact: true }] : [],
    );
    for (const [name, purpose] of d.subprocessors ?? []) await ctx.vendors.addSubprocessor(actor, v.id, { name, purpose });
    if (d.name === 'Keystone IT Support') {
      await ctx.vendors.overrideTier(actor, v.id, 'high', 'Remote access to every staff laptop, including those of the payroll team.');
    }
    created += 1;
    fresh.push({ id: v.id, name: d.name });
  }
  await seedQuestionnaires(ctx, fresh, owners[0] ?? null);
  await seedCertifications(ctx, fresh, owners[0] ?? null);
  await seedContracts(ctx, fresh);
  return { created, skipped: DEMO.length - created };
}

/** A small PDF to stand in for evidence. */
const DEMO_PDF = Buffer.from('%PDF-1.4\n% Demo evidence generated by Oversight\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');

/** A plausible answer for every question, as the vendor portal's form would send it. */
function demoForm(section: TemplateSection, today: string): Record<string, unknown> {
  const form: Record<string, unknown> = {};
  for (const q of section.questions) {
    form[`present__${q.id}`] = '1';
    const value =
      q.type === 'yes_no' ? 'yes'
      : q.type === 'single_choice' || q.type === 'multi_choice' ? q.options![0]!.value
      : q.type === 'number' ? '97'
      : q.type === 'date' ? addMonths(today, -2)
      : q.type === 'text' ? 'Jordan Lee, Chief Information Security Officer'
      : q.type === 'long_text' ? 'Described in our information security policy, section 4; available on request.'
      : undefined;
    if (value !== undefined) form[`a__${q.id}`] = value;
  }
  return form;
}

/**
 * Questionnaires in several states for some of the new demo vendors: sent and unopened, half
 * answered, submitted with evidence, and revoked.
 */
async function seedQuestionnaires(ctx: Context, vendors: { id: number; name: string }[], sender: User | null): Promise<void> {
  const template = ctx.templates.get('ma-201-cmr-17-due-diligence');
  if (!template) return;
  const actor = sender ? { type: 'user' as const, id: sender.id, label: sender.email, ip: null } : systemActor('demo');
  const today = ctx.vendors.today();
  const plan: Record<string, 'sent' | 'half' | 'submitted' | 'revoked'> = {
    'Orchard Benefits Enrollment': 'sent',
    'Vista Call Center Solutions': 'half',
    'Sequoia Security Monitoring': 'half',
    'Redwood HR Systems': 'submitted',
    'Trident Biometric Timeclocks': 'submitted',
    'Beacon Identity Verification': 'revoked',
  };
  for (const v of vendors) {
    const state = plan[v.name];
    if (!state) continue;
    const contact = (await ctx.vendors.contacts(v.id)).find((c) => c.isSecurityContact);
    if (!contact) continue;
    const { questionnaire: q } = await ctx.questionnaires.send(actor, { vendorId: v.id, contactId: contact.id, templateId: template.id, dueDate: addMonths(today, 1) });
    if (state === 'revoked') {
      await ctx.questionnaires.revoke(actor, q.id, 'Sent before the contract scope was settled.');
      continue;
    }
    if (state === 'sent') continue;
    const link = (await ctx.ds.getRepository(QuestionnaireLink).findOneByOrFail({ questionnaireId: q.id, replacedAt: IsNull() }));
    const vendorActor = ctx.questionnaires.vendorActor(q, link, null);
    const sections = state === 'half' ? q.snapshot.sections.slice(0, Math.ceil(q.snapshot.sections.length / 2)) : q.snapshot.sections;
    for (const section of sections) {
      const uploads = section.questions.filter((x) => x.type === 'file').map((x) => ({ questionId: x.id, originalName: `${x.id.replace(/_/g, '-')}.pdf`, buffer: DEMO_PDF }));
      await ctx.questionnaires.saveSection(vendorActor, await ctx.questionnaires.get(q.id), section, demoForm(section, today), state === 'submitted' ? uploads : [], null);
    }
    if (state === 'submitted') await ctx.questionnaires.submit(vendorActor, await ctx.questionnaires.get(q.id));
    if (state === 'submitted' && v.name === 'Redwood HR Systems' && sender) {
      await ctx.reviews.decide(actor, q.id, 'approved', 'Demo: answers and evidence reviewed; no open conditions.');
    }
  }
}
