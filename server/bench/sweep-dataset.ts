import { DAY } from '../clock';
import { deriveKey } from '../config';
import type { Context } from '../context';
import { addDays } from '../dates';
import { sealOf } from '../certifications/service';
import { renderStatement, textHash } from '../certifications/template';
import type { Certification } from '../certifications/entities';
import { GRACE_DAYS } from '../questionnaires/service';
import { REASSESSMENT_TEMPLATE } from '../reminders/rules/reassessment';
import { encryptText, newToken, sha256Hex } from '../security/crypto';
import { BulkWriter, type Row } from './bulk';

/**
 * A portfolio of `vendors` vendors holding only what the reminder rules read, in the state a portal
 * that has swept every day would be in: active vendors with reassessment dates spread over the
 * coming year (those inside the lead window already have their reassessment questionnaire, with a
 * live link), one signed annual certification each expiring over the coming year (a renewal already
 * requested, with its link, where it is within 30 days), one active contract each with its notice
 * deadline over the coming two years, and an open finding for one vendor in four, some past their
 * remediation date.
 * Written with bulk INSERTs into an empty, migrated database; returns the row counts.
 */
export async function generateSweepPortfolio(ctx: Context, vendors: number, ownerIds: number[]): Promise<Record<string, number>> {
  const bulk = await BulkWriter.open(ctx.ds);
  let seed = 2026;
  const rnd = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const now = ctx.clock.now();
  const nowIso = now.toISOString();
  const today = nowIso.slice(0, 10);
  const at = (day: string) => `${day}T09:00:00.000Z`;
  const lead = ctx.config.reminders.reassessmentLeadDays;
  const owner = (i: number) => ownerIds[i % ownerIds.length]!;
  const linkKey = deriveKey(ctx.config, 'questionnaire-links');
  const certificationLinkKey = deriveKey(ctx.config, 'certification-links');
  const counts: Record<string, number> = {};

  const reassessment = ctx.templates.get(REASSESSMENT_TEMPLATE);
  const annual = ctx.certificationTemplates.forPurpose('annual');
  if (!reassessment || !annual) throw new Error('the shipped annual-reassessment questionnaire or annual certification template is missing or invalid');
  await bulk.insert('template_snapshots', ['hash', 'templateId', 'version', 'content', 'createdAt'], [[reassessment.contentHash, reassessment.id, reassessment.template.version, JSON.stringify(reassessment.template), nowIso]]);

  const vendorRows: Row[] = [];
  const contactRows: Row[] = [];
  const qRows: Row[] = [];
  const linkRows: Row[] = [];
  const certRows: Row[] = [];
  const certLinkRows: Row[] = [];
  const contractRows: Row[] = [];
  const findingRows: Row[] = [];
  let qId = 0;
  let certId = 0;
  let findingId = 0;
  for (let id = 1; id <= vendors; id++) {
    const r = rnd();
    const status = r < 0.75 ? 'active' : r < 0.85 ? 'onboarding' : r < 0.92 ? 'prospect' : r < 0.96 ? 'offboarding' : 'terminated';
    const name = `Sweep Vendor ${String(id).padStart(6, '0')} LLC`;
    const next = status === 'active' ? addDays(today, 1 + Math.floor(rnd() * 365)) : null;
    const email = `security${id}@vendor${id}.example`;
    vendorRows.push([id, name, name.toLowerCase(), owner(id), status, 'ssn', 'yes', '1k_10k', 'stores', true, 'high', 'high', next ? addDays(next, -365) : null, next, owner(0), nowIso, nowIso]);
    contactRows.push([id, id, `Contact ${id}`, email, 'Security lead', true, nowIso, nowIso]);
    if (status === 'terminated') continue;

    // Inside the lead window (but for those whose window opens today), the reassessment was sent when it opened.
    if (next && next < addDays(today, lead)) {
      qId += 1;
      const sentOn = addDays(next, -lead);
      const opened = rnd() < 0.8;
      qRows.push([qId, id, id, `Contact ${id}`, email, reassessment.id, reassessment.template.version, reassessment.contentHash, reassessment.template.title, opened ? 'in_progress' : 'sent', next, owner(id), at(sentOn), opened ? at(sentOn) : null, at(sentOn), at(sentOn)]);
      const token = newToken();
      linkRows.push([qId, qId, sha256Hex(token), encryptText(linkKey, token), at(sentOn), new Date(Date.parse(`${next}T23:59:59.999Z`) + GRACE_DAYS * DAY).toISOString()]);
    }

    // The annual certification, signed within the past year; a renewal requested once it is within 30 days of its end.
    const signedOn = addDays(today, -Math.floor(rnd() * 365));
    const expiresOn = addDays(addDays(signedOn, 365), -1);
    const t = annual.template;
    const statement = renderStatement(t, { vendor: name, organization: ctx.config.organizationName });
    const signed = {
      id: ++certId, vendorId: id, contactId: id, recipientName: `Contact ${id}`, recipientEmail: email, templateId: annual.id, templateVersion: t.version, templateHash: annual.contentHash, purpose: 'annual', title: t.title,
      statement, textSha256: textHash(t.title, statement), validityMonths: 12, status: 'signed', dueDate: signedOn, requestedById: owner(0), requestedAt: new Date(at(addDays(signedOn, -10))), signerName: `Contact ${id}`,
      signerTitle: 'CISO', signerCompany: name, signature: `Contact ${id}`, method: 'link', signedAt: new Date(at(signedOn)), signedIp: '203.0.113.7', signedUserAgent: 'Mozilla/5.0', signedLinkId: null, expiresOn,
      fileSha256: null, confirmedById: null, confirmedAt: null,
    } as unknown as Certification; // only the fields the seal reads are needed here
    certRows.push(certRow(signed, sealOf(signed)));
    if (expiresOn < addDays(today, 30)) {
      const renewal = { ...signed, id: ++certId, status: 'requested', dueDate: expiresOn, requestedAt: new Date(at(addDays(expiresOn, -30))), signerName: null, signerTitle: null, signerCompany: null, signature: null, method: null, signedAt: null, signedIp: null, signedUserAgent: null, expiresOn: null } as unknown as Certification;
      certRows.push(certRow(renewal, null));
      const token = newToken();
      certLinkRows.push([renewal.id, sha256Hex(token), encryptText(certificationLinkKey, token), at(addDays(expiresOn, -30)), new Date(Date.parse(`${expiresOn}T23:59:59.999Z`) + 14 * DAY).toISOString()]);
    }

    // One active contract; its notice deadline somewhere in the coming two years.
    const contractExpires = addDays(today, 31 + Math.floor(rnd() * 700));
    const noticeDays = [30, 60, 90][id % 3]!;
    contractRows.push([id, id, `Master Services Agreement ${id}`, 'msa', 'active', addDays(contractExpires, -730), contractExpires, addDays(contractExpires, -730), rnd() < 0.5, noticeDays, addDays(contractExpires, -noticeDays), null, null, owner(0), nowIso, nowIso]);

    // An open finding for one vendor in four, its remediation date from 60 days ago to 300 days ahead.
    if (id % 4 === 0) {
      findingRows.push([++findingId, id, null, null, null, 'manual', `Finding ${findingId}`, 'medium', '201 CMR 17.04(5)', 'Training records incomplete.', null, owner(id), 'vendor', 'Complete the training.', addDays(today, -60 + Math.floor(rnd() * 360)), 'remediation_planned', nowIso, nowIso, null]);
    }
  }
  counts.vendors = await bulk.insert(
    'vendors',
    ['id', 'legalName', 'legalNameKey', 'businessOwnerId', 'status', 'piElements', 'maResidents', 'recordVolume', 'accessModes', 'inScope', 'computedTier', 'tier', 'lastAssessedOn', 'nextReassessmentOn', 'createdById', 'createdAt', 'updatedAt'],
    vendorRows,
  );
  counts.vendor_contacts = await bulk.insert('vendor_contacts', ['id', 'vendorId', 'name', 'email', 'role', 'isSecurityContact', 'createdAt', 'updatedAt'], contactRows);
  counts.questionnaires = await bulk.insert(
    'questionnaires',
    ['id', 'vendorId', 'contactId', 'recipientName', 'recipientEmail', 'templateId', 'templateVersion', 'templateHash', 'title', 'status', 'dueDate', 'sentById', 'sentAt', 'firstOpenedAt', 'createdAt', 'updatedAt'],
    qRows,
  );
  counts.questionnaire_links = await bulk.insert('questionnaire_links', ['id', 'questionnaireId', 'tokenHash', 'tokenEncrypted', 'issuedAt', 'expiresAt'], linkRows);
  counts.certifications = await bulk.insert(
    'certifications',
    ['id', 'vendorId', 'contactId', 'recipientName', 'recipientEmail', 'templateId', 'templateVersion', 'templateHash', 'purpose', 'title', 'statement', 'textSha256', 'validityMonths', 'status', 'dueDate', 'requestedById', 'requestedAt', 'signerName', 'signerTitle', 'signerCompany', 'signature', 'method', 'signedAt', 'signedIp', 'signedUserAgent', 'expiresOn', 'sealSha256', 'createdAt', 'updatedAt'],
    certRows,
  );
  counts.certification_links = await bulk.insert('certification_links', ['certificationId', 'tokenHash', 'tokenEncrypted', 'issuedAt', 'expiresAt'], certLinkRows);
  counts.contracts = await bulk.insert(
    'contracts',
    ['id', 'vendorId', 'title', 'type', 'status', 'effectiveOn', 'expiresOn', 'signedOn', 'autoRenews', 'noticeDays', 'noticeDeadline', 'amendsId', 'notes', 'createdById', 'createdAt', 'updatedAt'],
    contractRows,
  );
  counts.findings = await bulk.insert(
    'findings',
    ['id', 'vendorId', 'questionnaireId', 'questionId', 'ruleKey', 'source', 'title', 'severity', 'citation', 'description', 'answerText', 'ownerId', 'remediatedBy', 'remediationPlan', 'dueDate', 'status', 'createdAt', 'updatedAt', 'closedAt'],
    findingRows,
  );
  for (const table of ['vendors', 'vendor_contacts', 'questionnaires', 'questionnaire_links', 'certifications', 'contracts', 'findings']) await bulk.syncSequence(table);
  return counts;
}

function certRow(c: Certification, seal: string | null): Row {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return [
    c.id, c.vendorId, c.contactId, c.recipientName, c.recipientEmail, c.templateId, c.templateVersion, c.templateHash, c.purpose, c.title, c.statement, c.textSha256, c.validityMonths, c.status, c.dueDate,
    c.requestedById, iso(c.requestedAt), c.signerName, c.signerTitle, c.signerCompany, c.signature, c.method, iso(c.signedAt), c.signedIp, c.signedUserAgent, c.expiresOn, seal, iso(c.requestedAt), iso(c.signedAt ?? c.requestedAt),
  ];
}
