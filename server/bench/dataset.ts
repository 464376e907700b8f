import crypto from 'node:crypto';
import { deriveKey } from '../config';
import type { Context } from '../context';
import type { ClauseStatus } from '../contracts/entities';
import { DAY } from '../clock';
import { expiryFor, sealOf } from '../certifications/service';
import { renderStatement, textHash } from '../certifications/template';
import type { Certification } from '../certifications/entities';
import { type Answers, allQuestions, isVisible } from '../questionnaires/answers';
import type { AnswerValue } from '../questionnaires/entities';
import { GRACE_DAYS } from '../questionnaires/service';
import type { Severity, Template, TemplateQuestion } from '../questionnaires/template';
import { residualRating, scoreAnswers } from '../reviews/scoring';
import { appliesTo } from '../contracts/catalogue';
import { ACCESS_MODES, type AccessMode, MA_RESIDENTS, PI_ELEMENTS, type PiElement, VOLUME_BANDS, type VendorStatus } from '../vendors/risk';
import { deriveRisk } from '../vendors/service';
import { encryptText, newToken, sha256Hex } from '../security/crypto';
import { BulkWriter, type Row } from './bulk';

/** How much to generate; the defaults are the sizes the portal is measured at (README, "Performance"). */
export interface DatasetSize {
  vendors: number;
  questionnairesPerVendor: number;
  contractsPerVendor: number;
  certificationsPerVendor: number;
  auditEntries: number;
  outboxMessages: number;
}

export const FULL_SIZE: DatasetSize = { vendors: 10_000, questionnairesPerVendor: 3, contractsPerVendor: 2, certificationsPerVendor: 1, auditEntries: 100_000, outboxMessages: 20_000 };

/** What the measurements need to know about the generated data. */
export interface Dataset {
  counts: Record<string, number>;
  seconds: number;
  /** A vendor with questionnaires, contracts and a certification, for the vendor page. */
  vendorId: number;
  /** A live link to an open questionnaire of the 100-question template. */
  linkToken: string;
  linkQuestionnaireId: number;
  /** A section of that questionnaire and a text question in it, for the save measurement. */
  sectionId: string;
  textQuestionId: string;
}

/** A small deterministic generator, so two runs build the same portfolio. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['Acme', 'Northwind', 'Contoso', 'Fabrikam', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Tyrell', 'Cyberdyne', 'Soylent', 'Hooli', 'Vandelay', 'Pied Piper', 'Massive', 'Wonka', 'Gringotts', 'Oscorp', 'Dunder'];
const KINDS = ['Payroll', 'Cloud', 'Analytics', 'Logistics', 'Benefits', 'Shredding', 'Hosting', 'Marketing', 'Billing', 'Support', 'Backup', 'Consulting'];
const SUFFIXES = ['Inc.', 'LLC', 'Ltd', 'Corp.', 'GmbH', 'Co.'];

/**
 * Generates the measured portfolio into an empty, migrated database with bulk multi-row INSERTs:
 * vendors with contacts and subprocessors, questionnaires (snapshots of the shipped templates, one
 * link each, answers computed from the template so conditions hold, scores and generated findings
 * from the real scoring), contracts with clause rows for the clauses that apply, certifications with
 * their text hashes and seals, audit entries and outbox messages. Derived fields (scope, tier, next
 * reassessment, residual rating) come from the portal's own functions, so every page shows
 * consistent data.
 */
export async function generateDataset(ctx: Context, size: DatasetSize, linkTemplateId: string, ownerIds: number[]): Promise<Dataset> {
  const started = Date.now();
  const bulk = await BulkWriter.open(ctx.ds);
  const rnd = prng(17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const now = ctx.clock.now();
  const nowIso = now.toISOString();
  const today = nowIso.slice(0, 10);
  const dayOffset = (days: number) => new Date(now.getTime() + days * DAY).toISOString().slice(0, 10);
  const instant = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY).toISOString();
  const counts: Record<string, number> = {};
  const linkKey = deriveKey(ctx.config, 'questionnaire-links');

  // Vendors: a data profile each; scope, tier and dates derived by the portal's rules.
  interface V {
    id: number;
    name: string;
    status: VendorStatus;
    tier: ReturnType<typeof deriveRisk>['tier'];
    inScope: boolean;
    pi: PiElement[];
    subprocessors: number;
    contactId: number;
    contactName: string;
    contactEmail: string;
    lastAssessedOn: string | null;
    score: number | null;
    worst: Severity | null;
  }
  const vendors: V[] = [];
  for (let i = 1; i <= size.vendors; i++) {
    const r = rnd();
    const status: VendorStatus = r < 0.6 ? 'active' : r < 0.7 ? 'onboarding' : r < 0.8 ? 'prospect' : r < 0.85 ? 'offboarding' : 'terminated';
    const pi = PI_ELEMENTS.filter(() => rnd() < 0.35);
    const name = `${pick(WORDS)} ${pick(KINDS)} ${String(i).padStart(5, '0')} ${pick(SUFFIXES)}`;
    vendors.push({ id: i, name, status, tier: 'none', inScope: false, pi, subprocessors: rnd() < 0.3 ? 1 : 0, contactId: i, contactName: `Contact ${i}`, contactEmail: `security${i}@vendor${i}.example`, lastAssessedOn: null, score: null, worst: null });
  }

  // Template snapshots: every valid shipped template (and the generated one, when registered).
  const templates = ctx.templates.list().filter((t) => t.valid && t.template && t.contentHash);
  counts.template_snapshots = await bulk.insert(
    'template_snapshots',
    ['hash', 'templateId', 'version', 'content', 'createdAt'],
    templates.map((t) => [t.contentHash!, t.id, t.version!, JSON.stringify(t.template), instant(800)]),
  );
  const main = ctx.templates.get('ma-201-cmr-17-due-diligence');
  const linkTemplate = ctx.templates.get(linkTemplateId);
  if (!main || !linkTemplate) throw new Error('the shipped template ma-201-cmr-17-due-diligence (or the link template) is missing or invalid');

  // Answer sets, computed once per template: answers that honour conditions, with their score and findings.
  const variants = [0.0, 0.01, 0.02, 0.04, 0.08].map((risky, k) => answerSet(main.template, today, prng(100 + k), risky));

  // Questionnaires: statuses spread like a living portfolio; the newest of each vendor may be open.
  const qRows: Row[] = [];
  const linkRows: Row[] = [];
  // Answers are replayed from their shared answer set when inserted, so 2.4 million rows never sit in memory at once.
  const answerPlan: { qId: number; answers: [string, AnswerValue][]; count: number; at: string }[] = [];
  const findingRows: Row[] = [];
  let qId = 0;
  let findingId = 0;
  for (const v of vendors) {
    for (let k = 0; k < size.questionnairesPerVendor; k++) {
      qId += 1;
      const newest = k === size.questionnairesPerVendor - 1;
      const sentDaysAgo = newest ? Math.floor(rnd() * 40) : 120 + (size.questionnairesPerVendor - k) * 200 + Math.floor(rnd() * 60);
      const s = rnd();
      const status = newest ? (s < 0.25 ? 'sent' : s < 0.55 ? 'in_progress' : s < 0.8 ? 'submitted' : 'approved') : s < 0.92 ? 'approved' : s < 0.96 ? 'rejected' : 'revoked';
      const variant = variants[Math.floor(rnd() * variants.length)]!;
      const sentAt = instant(sentDaysAgo);
      const dueDate = dayOffset(-sentDaysAgo + 30);
      const submitted = status === 'submitted' || status === 'approved' || status === 'rejected';
      const submittedAt = submitted ? instant(Math.max(0, sentDaysAgo - 20)) : null;
      const decided = status === 'approved' || status === 'rejected';
      qRows.push([
        qId, v.id, v.contactId, v.contactName, v.contactEmail, main.id, main.template.version, main.contentHash, main.template.title, status, dueDate, ownerIds[v.id % ownerIds.length]!, sentAt,
        status === 'sent' ? null : instant(Math.max(0, sentDaysAgo - 2)), status === 'sent' ? null : instant(Math.max(0, sentDaysAgo - 10)), submittedAt,
        submitted ? variant.score : null, submitted ? residualRating(v.tier, variant.worst) : null, decided ? (status === 'approved' ? 'Approved with the findings as conditions.' : 'The safeguards are not sufficient.') : null,
        decided ? ownerIds[0]! : null, decided ? instant(Math.max(0, sentDaysAgo - 25)) : null, sentAt, submittedAt ?? sentAt,
      ]);
      const readOnlyUntil = submittedAt ? new Date(Date.parse(submittedAt) + 30 * DAY) : new Date(Date.parse(`${dueDate}T23:59:59.999Z`) + GRACE_DAYS * DAY);
      const token = newToken();
      linkRows.push([qId, qId, sha256Hex(token), encryptText(linkKey, token), sentAt, readOnlyUntil.toISOString(), null, status === 'revoked' ? instant(Math.max(0, sentDaysAgo - 5)) : null]);
      if (status === 'sent') continue;
      const answered = { length: status === 'in_progress' ? Math.floor(variant.answers.length * rnd()) : variant.answers.length };
      answerPlan.push({ qId, answers: variant.answers, count: answered.length, at: submittedAt ?? instant(Math.max(0, sentDaysAgo - 10)) });
      if (!submitted) continue;
      if (decided && status === 'approved') {
        const on = (submittedAt ?? sentAt).slice(0, 10);
        if (!v.lastAssessedOn || on > v.lastAssessedOn) v.lastAssessedOn = on;
      }
      v.score = variant.score;
      for (const f of variant.findings) {
        const open = newest || rnd() < 0.3;
        if (open && (!v.worst || SEVERITY_RANK[f.severity] < SEVERITY_RANK[v.worst])) v.worst = f.severity;
        findingRows.push([
          ++findingId, v.id, qId, f.questionId, f.ruleKey, 'generated', f.title.slice(0, 300), f.severity, f.citation.slice(0, 300), null, f.answerText,
          ownerIds[v.id % ownerIds.length]!, 'vendor', null, open ? null : dayOffset(-30), open ? 'open' : 'resolved', submittedAt!, submittedAt!, open ? null : instant(30),
        ]);
      }
    }
  }

  // Vendors last-assessed from their approved questionnaires; tier and dates derived by the portal.
  const vendorRows: Row[] = [];
  for (const v of vendors) {
    const accessModes = ACCESS_MODES.filter(() => rnd() < 0.4) as AccessMode[];
    const profile = { piElements: v.pi, maResidents: pick(MA_RESIDENTS), recordVolume: pick(VOLUME_BANDS), accessModes: accessModes.length ? accessModes : (['stores'] as AccessMode[]) };
    const risk = deriveRisk(ctx.config.reassessmentIntervals, { ...profile, tierOverride: null, lastAssessedOn: v.lastAssessedOn });
    v.tier = risk.tier;
    v.inScope = risk.inScope;
    const created = instant(900 - (v.id % 800));
    vendorRows.push([
      v.id, v.name, v.name.toLowerCase().replace(/\s+/g, ' '), null, `https://vendor${v.id}.example`, `${pick(KINDS)} services`, ownerIds[v.id % ownerIds.length]!, v.status, null,
      profile.piElements.join(','), profile.maResidents, profile.recordVolume, profile.accessModes.join(','), 'United States', risk.inScope, risk.computedTier, risk.tier,
      v.lastAssessedOn, risk.nextReassessmentOn, v.score, v.score === null ? null : residualRating(risk.tier, v.worst), v.lastAssessedOn ? 'approved' : null, ownerIds[0]!, created, instant(v.id % 300),
    ]);
  }
  counts.vendors = await bulk.insert(
    'vendors',
    ['id', 'legalName', 'legalNameKey', 'tradingName', 'website', 'services', 'businessOwnerId', 'status', 'notes', 'piElements', 'maResidents', 'recordVolume', 'accessModes', 'dataLocation', 'inScope', 'computedTier', 'tier', 'lastAssessedOn', 'nextReassessmentOn', 'lastScore', 'residualRating', 'lastDecision', 'createdById', 'createdAt', 'updatedAt'],
    vendorRows,
  );
  counts.vendor_contacts = await bulk.insert(
    'vendor_contacts',
    ['id', 'vendorId', 'name', 'email', 'role', 'isSecurityContact', 'createdAt', 'updatedAt'],
    vendors.map((v) => [v.contactId, v.id, v.contactName, v.contactEmail, 'Security lead', true, instant(800), instant(800)]),
  );
  counts.vendor_subprocessors = await bulk.insert(
    'vendor_subprocessors',
    ['vendorId', 'name', 'purpose', 'location', 'createdAt'],
    vendors.filter((v) => v.subprocessors > 0).map((v) => [v.id, `${pick(WORDS)} Hosting`, 'Infrastructure hosting', 'United States', instant(700)]),
  );
  counts.questionnaires = await bulk.insert(
    'questionnaires',
    ['id', 'vendorId', 'contactId', 'recipientName', 'recipientEmail', 'templateId', 'templateVersion', 'templateHash', 'title', 'status', 'dueDate', 'sentById', 'sentAt', 'firstOpenedAt', 'lastSavedAt', 'submittedAt', 'score', 'residualRating', 'decisionReason', 'decidedById', 'decidedAt', 'createdAt', 'updatedAt'],
    qRows,
  );
  counts.questionnaire_links = await bulk.insert('questionnaire_links', ['id', 'questionnaireId', 'tokenHash', 'tokenEncrypted', 'issuedAt', 'expiresAt', 'replacedAt', 'revokedAt'], linkRows);
  counts.questionnaire_answers = await bulk.insert(
    'questionnaire_answers',
    ['id', 'questionnaireId', 'questionId', 'value', 'updatedAt'],
    (function* () {
      let id = 0;
      for (const p of answerPlan) for (let i = 0; i < p.count; i++) yield [++id, p.qId, p.answers[i]![0], JSON.stringify(p.answers[i]![1]), p.at];
    })(),
  );
  answerPlan.length = 0;
  counts.findings = await bulk.insert(
    'findings',
    ['id', 'vendorId', 'questionnaireId', 'questionId', 'ruleKey', 'source', 'title', 'severity', 'citation', 'description', 'answerText', 'ownerId', 'remediatedBy', 'remediationPlan', 'dueDate', 'status', 'createdAt', 'updatedAt', 'closedAt'],
    findingRows,
  );

  // Contracts, with one clause row for each catalogue clause that applies to the vendor.
  const clauses = ctx.clauses.list();
  const contractRows: Row[] = [];
  const clauseRows: Row[] = [];
  let contractId = 0;
  for (const v of vendors) {
    for (let k = 0; k < size.contractsPerVendor; k++) {
      contractId += 1;
      const r = rnd();
      const status = v.status === 'prospect' ? 'draft' : r < 0.75 ? 'active' : r < 0.85 ? 'expired' : r < 0.92 ? 'draft' : 'terminated';
      const effectiveOn = status === 'draft' ? null : dayOffset(-400 - Math.floor(rnd() * 700));
      const expiresOn = effectiveOn ? (status === 'expired' ? dayOffset(-Math.floor(rnd() * 200) - 1) : dayOffset(Math.floor(rnd() * 700) + 1)) : null;
      const noticeDays = expiresOn ? pick([30, 60, 90]) : null;
      const noticeDeadline = expiresOn && noticeDays ? new Date(Date.parse(`${expiresOn}T00:00:00Z`) - noticeDays * DAY).toISOString().slice(0, 10) : null;
      const type = k === 0 ? 'msa' : 'dpa';
      contractRows.push([contractId, v.id, `${type === 'msa' ? 'Master Services Agreement' : 'Data Processing Addendum'} ${v.id}`, type, status, effectiveOn, expiresOn, effectiveOn, rnd() < 0.5, noticeDays, noticeDeadline, null, null, ownerIds[0]!, instant(500), instant(100)]);
      if (status === 'draft' && rnd() < 0.5) continue;
      for (const c of clauses) {
        if (!appliesTo(c, { piElements: v.pi, inScope: v.inScope, subprocessorCount: v.subprocessors })) continue;
        const x = rnd();
        if (x > 0.95) continue; // not reviewed
        const st: ClauseStatus = x < 0.7 ? 'present' : x < 0.8 ? 'partial' : x < 0.9 ? 'missing' : 'not_applicable';
        clauseRows.push([contractId, c.id, st, st === 'present' || st === 'partial' ? `§${1 + Math.floor(rnd() * 20)}.${1 + Math.floor(rnd() * 9)}` : null, st === 'partial' || st === 'not_applicable' ? 'Reviewed by legal.' : null, null, ownerIds[0]!, instant(90)]);
      }
    }
  }
  counts.contracts = await bulk.insert(
    'contracts',
    ['id', 'vendorId', 'title', 'type', 'status', 'effectiveOn', 'expiresOn', 'signedOn', 'autoRenews', 'noticeDays', 'noticeDeadline', 'amendsId', 'notes', 'createdById', 'createdAt', 'updatedAt'],
    contractRows,
  );
  counts.contract_clauses = await bulk.insert('contract_clauses', ['contractId', 'clauseId', 'status', 'reference', 'note', 'amendmentId', 'reviewedById', 'reviewedAt'], clauseRows);

  // Certifications: the annual one, signed (sealed as the portal seals it) or still requested.
  const annual = ctx.certificationTemplates.forPurpose('annual');
  if (!annual) throw new Error('the shipped annual certification template is missing or invalid');
  const certRows: Row[] = [];
  let certId = 0;
  for (const v of vendors) {
    for (let k = 0; k < size.certificationsPerVendor; k++) {
      certId += 1;
      const t = annual.template;
      const statement = renderStatement(t, { vendor: v.name, organization: ctx.config.organizationName });
      const validity = t.validity_months === 'never' ? null : t.validity_months;
      const signed = rnd() < 0.7;
      const signedAt = signed ? new Date(now.getTime() - Math.floor(rnd() * 400) * DAY) : null;
      const c = {
        id: certId, vendorId: v.id, contactId: v.contactId, recipientName: v.contactName, recipientEmail: v.contactEmail, templateId: annual.id, templateVersion: t.version, templateHash: annual.contentHash,
        purpose: 'annual', title: t.title, statement, textSha256: textHash(t.title, statement), validityMonths: validity, status: signed ? 'signed' : 'requested', dueDate: dayOffset(signed ? -400 : 20),
        requestedById: ownerIds[0]!, requestedAt: new Date(now.getTime() - 420 * DAY), signerName: signed ? v.contactName : null, signerTitle: signed ? 'CISO' : null, signerCompany: signed ? v.name : null,
        signature: signed ? v.contactName : null, method: signed ? 'link' : null, signedAt, signedIp: signed ? '203.0.113.7' : null, signedUserAgent: signed ? 'Mozilla/5.0' : null, signedLinkId: null,
        expiresOn: signedAt ? expiryFor(signedAt.toISOString().slice(0, 10), validity) : null, fileSha256: null, confirmedById: null, confirmedAt: null,
      } as unknown as Certification; // only the fields the seal reads are needed here
      certRows.push([
        c.id, c.vendorId, c.contactId, c.recipientName, c.recipientEmail, c.templateId, c.templateVersion, c.templateHash, c.purpose, c.title, c.statement, c.textSha256, c.validityMonths, c.status, c.dueDate,
        c.requestedById, c.requestedAt.toISOString(), c.signerName, c.signerTitle, c.signerCompany, c.signature, c.method, signedAt?.toISOString() ?? null, c.signedIp, c.signedUserAgent, c.expiresOn,
        signed ? sealOf(c) : null, c.requestedAt.toISOString(), (signedAt ?? c.requestedAt).toISOString(),
      ]);
    }
  }
  counts.certifications = await bulk.insert(
    'certifications',
    ['id', 'vendorId', 'contactId', 'recipientName', 'recipientEmail', 'templateId', 'templateVersion', 'templateHash', 'purpose', 'title', 'statement', 'textSha256', 'validityMonths', 'status', 'dueDate', 'requestedById', 'requestedAt', 'signerName', 'signerTitle', 'signerCompany', 'signature', 'method', 'signedAt', 'signedIp', 'signedUserAgent', 'expiresOn', 'sealSha256', 'createdAt', 'updatedAt'],
    certRows,
  );

  // Audit entries across vendors and questionnaires, oldest first; outbox messages already sent.
  const actions = ['vendor.updated', 'questionnaire.sent', 'questionnaire.answers_saved', 'questionnaire.submitted', 'finding.status_changed', 'contract.clause_set', 'certification.signed', 'user.login'];
  counts.audit_entries = await bulk.insert(
    'audit_entries',
    ['at', 'actorType', 'actorId', 'actorLabel', 'action', 'entityType', 'entityId', 'changes', 'details', 'ip'],
    (function* () {
      for (let i = 0; i < size.auditEntries; i++) {
        const action = actions[i % actions.length]!;
        const vendorId = 1 + (i % size.vendors);
        const entityType = action.split('.')[0] === 'user' ? 'user' : action.startsWith('questionnaire') ? 'questionnaire' : 'vendor';
        yield [instant(((size.auditEntries - i) / size.auditEntries) * 730), 'user', ownerIds[i % ownerIds.length]!, `owner${i % ownerIds.length}@oversight.example`, action, entityType, String(entityType === 'questionnaire' ? (vendorId - 1) * size.questionnairesPerVendor + 1 : vendorId), null, JSON.stringify({ bench: true }), '198.51.100.4'];
      }
    })(),
  );
  const mailKey = ctx.mailKey;
  const sealedBody = encryptText(mailKey, 'Please answer the questionnaire by the due date.');
  counts.mail_outbox = await bulk.insert(
    'mail_outbox',
    ['dedupeKey', 'kind', 'toAddress', 'subject', 'bodyEncrypted', 'htmlEncrypted', 'status', 'attempts', 'nextAttemptAt', 'sentAt', 'lastError', 'createdAt'],
    (function* () {
      for (let i = 0; i < size.outboxMessages; i++) {
        const v = vendors[i % vendors.length]!;
        const at = instant(((size.outboxMessages - i) / size.outboxMessages) * 365);
        yield [`bench:${i}`, 'questionnaire-sent', v.contactEmail, `Security questionnaire from ${ctx.config.organizationName}`, sealedBody, null, 'sent', 1, at, at, null, at];
      }
    })(),
  );
  for (const table of ['vendors', 'vendor_contacts', 'questionnaires', 'questionnaire_links', 'questionnaire_answers', 'findings', 'contracts', 'certifications']) await bulk.syncSequence(table);

  // The measured link: an open questionnaire of the link template for a well-furnished vendor.
  const vendor = vendors.find((v) => v.status === 'active' && v.inScope && v.subprocessors > 0) ?? vendors[0]!;
  const token = newToken();
  const linkQuestionnaireId = qId + 1;
  await bulk.insert(
    'questionnaires',
    ['id', 'vendorId', 'contactId', 'recipientName', 'recipientEmail', 'templateId', 'templateVersion', 'templateHash', 'title', 'status', 'dueDate', 'sentById', 'sentAt', 'firstOpenedAt', 'createdAt', 'updatedAt'],
    [[linkQuestionnaireId, vendor.id, vendor.contactId, vendor.contactName, vendor.contactEmail, linkTemplate.id, linkTemplate.template.version, linkTemplate.contentHash, linkTemplate.template.title, 'in_progress', dayOffset(30), ownerIds[0]!, nowIso, nowIso, nowIso, nowIso]],
  );
  await bulk.syncSequence('questionnaires');
  await ctx.ds.query(`INSERT INTO "questionnaire_links" ("questionnaireId", "tokenHash", "tokenEncrypted", "issuedAt", "expiresAt") VALUES (${marks(bulk.postgres, 5)})`, [
    linkQuestionnaireId, sha256Hex(token), encryptText(linkKey, token), nowIso, new Date(Date.parse(`${dayOffset(30)}T23:59:59.999Z`) + GRACE_DAYS * DAY).toISOString(),
  ]);
  const half = answerSet(linkTemplate.template, today, prng(7), 0.05).answers;
  await bulk.insert('questionnaire_answers', ['questionnaireId', 'questionId', 'value', 'updatedAt'], half.slice(0, Math.floor(half.length / 2)).map(([q, v]) => [linkQuestionnaireId, q, JSON.stringify(v), nowIso]));
  const firstText = linkTemplate.template.sections.flatMap((s) => s.questions.filter((q) => q.type === 'text' && !q.show_if).map((q) => ({ s, q })))[0];
  if (!firstText) throw new Error('the link template has no unconditional text question to save');
  return { counts, seconds: (Date.now() - started) / 1000, vendorId: vendor.id, linkToken: token, linkQuestionnaireId, sectionId: firstText.s.id, textQuestionId: firstText.q.id };
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

function marks(postgres: boolean, n: number): string {
  return Array.from({ length: n }, (_, i) => (postgres ? `$${i + 1}` : '?')).join(', ');
}

/**
 * One vendor's answers to a template, in question order, honouring every condition: each question
 * gets a plausible value, a risky one with probability `risky`. Scored by the portal's own scoring.
 */
export function answerSet(t: Template, today: string, rnd: () => number, risky: number): { answers: [string, AnswerValue][]; score: number; findings: ReturnType<typeof scoreAnswers>['findings']; worst: Severity | null } {
  const answers: Answers = new Map();
  for (const { q } of allQuestions(t)) {
    if (q.type === 'file' || !isVisible(q, answers, today)) continue;
    const value = valueFor(q, today, rnd, rnd() < risky);
    if (value !== null) answers.set(q.id, value);
  }
  const { score, findings } = scoreAnswers(t, answers, new Map(), today);
  const worst = findings.reduce<Severity | null>((w, f) => (!w || SEVERITY_RANK[f.severity] < SEVERITY_RANK[w] ? f.severity : w), null);
  return { answers: [...answers.entries()], score, findings, worst };
}

function valueFor(q: TemplateQuestion, today: string, rnd: () => number, risky: boolean): AnswerValue {
  // A risky answer is one that triggers the first risk rule whose test names a value.
  const rule = risky ? q.risk.find((r) => r.when.equals !== undefined || r.when.in !== undefined) : undefined;
  if (rule?.when.equals !== undefined) return q.type === 'number' ? Number(rule.when.equals) : String(rule.when.equals);
  if (rule?.when.in !== undefined) return String(rule.when.in[0]);
  const riskyValues = new Set(q.risk.flatMap((r) => [r.when.equals, ...(r.when.in ?? [])].filter((x) => x !== undefined).map(String)));
  const safe = (values: string[]) => values.filter((v) => !riskyValues.has(v));
  switch (q.type) {
    case 'yes_no': {
      const ok = safe(['yes', 'no']);
      return ok[Math.floor(rnd() * ok.length)] ?? 'yes';
    }
    case 'single_choice': {
      const ok = safe((q.options ?? []).map((o) => o.value));
      return ok[0] ?? q.options![0]!.value;
    }
    case 'multi_choice':
      return (q.options ?? []).filter((_, i) => i === 0 || rnd() < 0.4).map((o) => o.value);
    case 'number':
      return 1 + Math.floor(rnd() * 365);
    case 'date':
      return new Date(Date.parse(`${today}T00:00:00Z`) - Math.floor(rnd() * 300) * DAY).toISOString().slice(0, 10);
    case 'text':
      return `Handled by our security team (${crypto.randomBytes(3).toString('hex')}).`;
    case 'long_text':
      return 'We follow a documented procedure, reviewed every year by the security officer and approved by management. Records of each review are kept for three years.';
    default:
      return null;
  }
}

/**
 * A generated questionnaire template of `questions` questions in sections of ten, of every kind,
 * for measuring the vendor's page at the size of a long questionnaire.
 */
export function generatedTemplateYaml(id: string, questions: number): string {
  const kinds = ['yes_no', 'single_choice', 'text', 'multi_choice', 'yes_no', 'long_text', 'number', 'date', 'yes_no', 'file'];
  const lines = [`id: ${id}`, 'version: 1', 'title: "Generated questionnaire for the benchmark"', 'description: "Questions of every kind, to measure the vendor portal at the size of a long questionnaire."', 'estimated_minutes: 90', 'sections:'];
  for (let s = 0; s * 10 < questions; s++) {
    lines.push(`  - id: section-${s + 1}`, `    title: "Section ${s + 1}"`, '    questions:');
    for (let i = s * 10; i < Math.min(questions, s * 10 + 10); i++) {
      const type = kinds[i % kinds.length]!;
      lines.push(`      - id: q${i + 1}`, `        text: "Question ${i + 1}: describe how this safeguard is applied to our data."`, `        type: ${type}`, '        required: true', '        citations: ["201 CMR 17.03(2)(b)"]');
      if (type === 'single_choice' || type === 'multi_choice') lines.push('        options: ["Always", "Sometimes", "Never"]');
      if (type === 'yes_no') lines.push('        risk:', '          - when: { equals: "no" }', '            severity: medium', '            finding: "The safeguard is not in place."', '            weight: 5');
      if (i % 10 === 4) lines.push(`        show_if: { question: q${i}, answered: true }`);
    }
  }
  return `${lines.join('\n')}\n`;
}
