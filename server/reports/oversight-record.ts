import crypto from 'node:crypto';
import { Transform, type Writable } from 'node:stream';
import { Brackets, In } from 'typeorm';
import yazl from 'yazl';
import { AuditEntry } from '../audit/entities';
import { type Actor, recordAudit } from '../audit/service';
import { Certification } from '../certifications/entities';
import { STATUS_LABELS as CERTIFICATION_STATUS_LABELS, displayStatus as certificationStatus } from '../certifications/service';
import { PURPOSE_LABELS } from '../certifications/template';
import type { Context } from '../context';
import { Reminder } from '../reminders/entities';
import { RULE_LABELS } from '../reminders/routes';
import { CLAUSE_STATE_LABELS } from '../contracts/coverage';
import { AmendmentItem, ContractAmendment, ContractFile } from '../contracts/entities';
import { AMENDMENT_STATUS_LABELS, CONTRACT_STATUS_LABELS, TYPE_LABELS } from '../contracts/labels';
import { Finding } from '../findings/entities';
import { SEVERITY_LABELS, STATUS_LABELS as FINDING_STATUS_LABELS } from '../findings/service';
import { allQuestions, displayAnswer, isVisible } from '../questionnaires/answers';
import { EvidenceFile, type Questionnaire, QuestionnaireAnswer } from '../questionnaires/entities';
import { sanitizeFileName } from '../questionnaires/evidence';
import { STATUS_LABELS as QUESTIONNAIRE_STATUS_LABELS } from '../questionnaires/service';
import type { Vendor } from '../vendors/entities';
import { vendorDetail } from '../vendors/present';
import { STATUS_LABELS as VENDOR_STATUS_LABELS, TIER_LABELS } from '../vendors/risk';
import { reportDocument, utc, writer } from './pdf';

/** One file of the record and what the manifest says of it. */
export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
  /** For stored files: the SHA-256 recorded when the file was uploaded, to compare with `sha256`. */
  recordedSha256?: string;
}

/** A stored, encrypted file that goes into the record decrypted. */
interface StoredFile {
  path: string;
  recordedSha256: string;
  uploadedAt: Date;
  pipeTo(out: Writable): Promise<void>;
}

const SUMMARY = 'oversight-record.pdf';
const AUDIT_BATCH = 500;

/** Counts the bytes and hashes them as they pass. */
function measuring(): { stream: Transform; result: () => { size: number; sha256: string } } {
  const hash = crypto.createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  let digest: string | null = null;
  return { stream, result: () => ({ size, sha256: (digest ??= hash.digest('hex')) }) };
}

/** A path segment for the ZIP: a sanitized name, never a folder or a dot-name. */
function segment(name: string): string {
  return sanitizeFileName(name).replace(/[/\\]/g, '_');
}

/**
 * The vendor-oversight record of one vendor, as the Attorney General may ask for it: a ZIP streamed
 * into `out` holding a PDF summary, every evidence file and signed document decrypted, and
 * manifest.json with each file's path, size and SHA-256. Nothing is built in memory: the PDF and each
 * file are streamed into the archive one after the other, each hashed on the way. Audited.
 */
export async function writeOversightRecord(ctx: Context, actor: Actor, vendor: Vendor, out: Writable): Promise<void> {
  const files = await storedFiles(ctx, vendor.id);
  await recordAudit(ctx.ds.manager, ctx.clock, actor, {
    action: 'report.oversight_record',
    entityType: 'vendor',
    entityId: vendor.id,
    details: { files: files.length + 2 },
  });

  const zip = new yazl.ZipFile();
  const finished = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('close', resolve);
    out.once('error', reject);
  });
  // A stored file that fails to decrypt (tampered, or missing) ends the download broken rather than wrong.
  zip.on('error', (err: Error) => out.destroy(err));
  zip.outputStream.pipe(out);
  let current: Transform | null = null;
  let gone = false;
  // A client that goes away stops the archive; the file being decrypted is closed at once.
  out.once('close', () => {
    gone = true;
    current?.destroy(new Error('client closed the download'));
  });

  const manifest: ManifestEntry[] = [];
  const now = ctx.clock.now();
  try {
    const pdf = measuring();
    current = pdf.stream;
    zip.addReadStream(pdf.stream, SUMMARY, { mtime: now });
    const pdfDone = new Promise<void>((resolve, reject) => {
      pdf.stream.once('finish', resolve);
      pdf.stream.once('error', reject);
    });
    const doc = reportDocument({ title: `Oversight record: ${vendor.legalName}`, author: ctx.config.organizationName, subject: 'Vendor oversight record (201 CMR 17.03(2)(f))', createdAt: now });
    doc.pipe(pdf.stream);
    await writeSummary(ctx, doc, vendor, files, now);
    doc.end();
    await pdfDone;
    manifest.push({ path: SUMMARY, ...pdf.result() });

    for (const f of files) {
      if (gone) break;
      const m = measuring();
      current = m.stream;
      zip.addReadStream(m.stream, f.path, { mtime: f.uploadedAt });
      await f.pipeTo(m.stream);
      manifest.push({ path: f.path, ...m.result(), recordedSha256: f.recordedSha256 });
    }
    current = null;
    if (!gone) {
      const body = Buffer.from(`${JSON.stringify({ vendor: { id: vendor.id, legalName: vendor.legalName }, generatedAt: now.toISOString(), algorithm: 'SHA-256', files: manifest }, null, 2)}\n`, 'utf8');
      zip.addBuffer(body, 'manifest.json', { mtime: now });
    }
  } finally {
    zip.end();
  }
  await finished;
}

/** The encrypted files of the vendor, in the order they go into the record. */
async function storedFiles(ctx: Context, vendorId: number): Promise<StoredFile[]> {
  const [questionnaires, contractFiles, certifications] = await Promise.all([
    ctx.questionnaires.forVendor(vendorId),
    ctx.ds.getRepository(ContractFile).find({ where: { vendorId }, order: { id: 'ASC' } }),
    ctx.ds.getRepository(Certification).find({ where: { vendorId }, select: ['id', 'fileName', 'storedName', 'fileSha256', 'signedAt', 'requestedAt', 'status'], order: { id: 'ASC' } }),
  ]);
  const evidence = questionnaires.length ? await ctx.ds.getRepository(EvidenceFile).find({ where: { questionnaireId: In(questionnaires.map((q) => q.id)) }, order: { questionnaireId: 'ASC', id: 'ASC' } }) : [];
  const out: StoredFile[] = [];
  for (const e of evidence) {
    out.push({ path: `questionnaires/${e.questionnaireId}/evidence/${e.id}-${segment(e.fileName)}`, recordedSha256: e.sha256, uploadedAt: e.uploadedAt, pipeTo: (w) => ctx.evidence.pipeTo(e.storedName, w) });
  }
  for (const f of contractFiles) {
    const where = f.amendmentId ? `amendments/${f.amendmentId}` : `contracts/${f.contractId ?? 'unfiled'}`;
    out.push({ path: `${where}/${f.id}-${f.kind}-${segment(f.fileName)}`, recordedSha256: f.sha256, uploadedAt: f.uploadedAt, pipeTo: (w) => ctx.contractFiles.pipeTo(f.storedName, w) });
  }
  for (const c of certifications) {
    // Signed copies uploaded on paper; an upload that was refused has no stored file any more.
    if (!c.storedName || !c.fileSha256) continue;
    const storedName = c.storedName;
    out.push({ path: `certifications/${c.id}/${segment(c.fileName ?? 'signed.pdf')}`, recordedSha256: c.fileSha256, uploadedAt: c.signedAt ?? c.requestedAt, pipeTo: (w) => ctx.evidence.pipeTo(storedName, w) });
  }
  return out;
}

/** The PDF summary: profile, tier, assessments with answers, findings, contracts, certifications, audit trail. */
async function writeSummary(ctx: Context, doc: PDFKit.PDFDocument, v: Vendor, files: StoredFile[], now: Date): Promise<void> {
  const w = writer(doc);
  const today = now.toISOString().slice(0, 10);
  const [contacts, subprocessors, users, questionnaires, findings, coverage, amendments, certifications] = await Promise.all([
    ctx.vendors.contacts(v.id),
    ctx.vendors.subprocessors(v.id),
    ctx.vendors.usersById([v.businessOwnerId, v.tierOverrideById]),
    ctx.questionnaires.forVendor(v.id),
    ctx.ds.getRepository(Finding).find({ where: { vendorId: v.id }, order: { createdAt: 'ASC', id: 'ASC' } }),
    ctx.contracts.vendorCoverage(v.id),
    ctx.ds.getRepository(ContractAmendment).find({ where: { vendorId: v.id }, order: { createdAt: 'ASC', id: 'ASC' } }),
    ctx.ds.getRepository(Certification).find({ where: { vendorId: v.id }, order: { requestedAt: 'ASC', id: 'ASC' } }),
  ]);
  const detail = vendorDetail(
    v,
    { owner: (v.businessOwnerId ? users.get(v.businessOwnerId)?.name : undefined) ?? null, tierOverrideBy: (v.tierOverrideById ? users.get(v.tierOverrideById)?.name : undefined) ?? null },
    ctx.config.reassessmentIntervals,
    today,
  );

  w.small(`${ctx.config.organizationName} · vendor-oversight record · produced by Oversight on ${utc(now)}`);
  w.gap(0.6);
  w.title(`Oversight record: ${v.legalName}`);
  w.para(detail.scopeStatement);
  w.gap();

  w.h1('Profile');
  w.field('Legal name', v.legalName);
  w.field('Trading name', v.tradingName);
  w.field('Website', v.website);
  w.field('Status', VENDOR_STATUS_LABELS[v.status]);
  w.field('Services provided', v.services);
  w.field('Business owner', detail.ownerName);
  w.field('Personal information', detail.piElements.join('; ') || 'none recorded');
  w.field('Concerns Massachusetts residents', { yes: 'Yes', no: 'No', unknown: 'Not known yet' }[v.maResidents]);
  w.field('Number of records', detail.recordVolumeLabel);
  w.field('How the vendor handles it', detail.accessModes.join('; '));
  w.field('Where the data is kept', v.dataLocation);
  w.field('In the portal since', utc(v.createdAt));
  w.h2('Contacts');
  if (contacts.length === 0) w.para('None recorded.');
  for (const c of contacts) w.para(`${c.name} <${c.email}>${c.role ? `, ${c.role}` : ''}${c.isSecurityContact ? ' (security contact)' : ''}`);
  w.h2('Subprocessors');
  if (subprocessors.length === 0) w.para('None recorded.');
  for (const s of subprocessors) w.para(`${s.name}: ${s.purpose}${s.location ? ` (${s.location})` : ''}`);

  w.h1('Inherent risk tier and assessment cycle');
  w.field('Tier', `${TIER_LABELS[v.tier]}${v.tierOverride ? ` (override; computed tier ${TIER_LABELS[v.computedTier]})` : ''}`);
  w.para('Reasons for the computed tier:');
  for (const r of detail.tierReasons) w.para(`• ${r}`, { indent: 12 });
  if (v.tierOverride) w.field('Override', `${detail.tierOverrideBy ?? 'a former user'} on ${utc(v.tierOverrideAt)}: ${v.tierOverrideReason ?? ''}`);
  w.field('Reassessment interval', detail.intervalMonths === null ? 'no reassessment needed' : `${detail.intervalMonths} months`);
  w.field('Last assessed on', v.lastAssessedOn);
  w.field('Next assessment due', v.nextReassessmentOn);
  w.field(`Assessment state on ${today}`, detail.assessmentLabel);
  w.field('Latest score', v.lastScore === null ? null : `${v.lastScore} / 100`);
  w.field('Residual rating', v.residualRating);
  w.field('Latest decision', v.lastDecision);

  w.h1('Assessments');
  if (questionnaires.length === 0) w.para('No questionnaire has been sent to this vendor.');
  const findingsByQuestionnaire = new Map<number, Finding[]>();
  for (const f of findings) if (f.questionnaireId) findingsByQuestionnaire.set(f.questionnaireId, [...(findingsByQuestionnaire.get(f.questionnaireId) ?? []), f]);
  for (const listed of [...questionnaires].reverse()) {
    await writeAssessment(ctx, w, listed, files, findingsByQuestionnaire.get(listed.id) ?? [], today);
  }

  w.h1('Findings');
  if (findings.length === 0) w.para('No finding has been recorded for this vendor.');
  for (const f of findings) {
    w.h2(`#${f.id} ${f.title}`);
    w.field('Severity', SEVERITY_LABELS[f.severity]);
    w.field('Citation', f.citation);
    w.field('Status', FINDING_STATUS_LABELS[f.status]);
    w.field('Source', f.source === 'generated' ? `generated from questionnaire #${f.questionnaireId ?? ''}` : 'recorded by hand');
    w.field('Recorded', utc(f.createdAt));
    w.field('Remediation', `${f.remediatedBy === 'us' ? 'by us' : 'by the vendor'}${f.dueDate ? `, due ${f.dueDate}` : ''}${f.remediationPlan ? `: ${f.remediationPlan}` : ''}`);
    if (f.status === 'risk_accepted') w.field('Risk accepted until', `${f.riskAcceptanceExpiresOn ?? ''}: ${f.riskAcceptanceReason ?? ''}`);
    if (f.closedAt) w.field('Closed', utc(f.closedAt));
  }

  w.h1('Contracts and clause coverage');
  const allContracts = [...coverage.activeContracts, ...coverage.otherContracts];
  if (allContracts.length === 0) w.para('No contract is recorded for this vendor.');
  for (const c of allContracts) {
    w.h2(`Contract #${c.id}: ${c.title}`);
    w.field('Type and status', `${TYPE_LABELS[c.type]}, ${CONTRACT_STATUS_LABELS[c.status]}`);
    w.field('Signed / effective / expires', `${c.signedOn ?? '—'} / ${c.effectiveOn ?? '—'} / ${c.expiresOn ?? 'no expiry'}`);
  }
  w.h2(`Coverage of the clauses that apply (active contracts combined)${coverage.percent === null ? '' : `: ${coverage.percent}%`}`);
  if (coverage.clauses.length === 0) w.para('No clause of the catalogue applies to this vendor.');
  for (const c of coverage.clauses) {
    const refs = [...c.byContract.entries()].filter(([, x]) => x.row?.reference).map(([id, x]) => `contract #${id} ${x.row!.reference}`);
    w.para(`${c.clause.id} ${c.clause.title}: ${CLAUSE_STATE_LABELS[c.state]}${refs.length ? ` (${refs.join('; ')})` : ''}`, { indent: 12 });
    w.small(c.clause.citations.join('; '), 24);
  }
  w.h2('Amendment requests');
  if (amendments.length === 0) w.para('None.');
  const items = amendments.length ? await ctx.ds.getRepository(AmendmentItem).find({ where: { amendmentId: In(amendments.map((a) => a.id)) }, order: { id: 'ASC' } }) : [];
  for (const a of amendments) {
    const clauses = items.filter((i) => i.amendmentId === a.id).map((i) => `${i.clauseId} in contract #${i.contractId}${i.reference ? ` (${i.reference})` : ''}`);
    w.para(`#${a.id} ${a.title}: ${AMENDMENT_STATUS_LABELS[a.status]}; opened ${utc(a.createdAt)}${a.targetDate ? `; target ${a.targetDate}` : ''}${a.closedAt ? `; closed ${utc(a.closedAt)}` : ''}${a.closingReason ? ` (${a.closingReason})` : ''}`, { indent: 12 });
    if (clauses.length) w.small(clauses.join('; '), 24);
  }

  w.h1('Written certifications');
  w.small('Collected as contractual evidence and good practice; 201 CMR 17.00 itself does not require them.');
  if (certifications.length === 0) w.para('None requested.');
  for (const c of certifications) {
    const status = certificationStatus(c, today);
    w.h2(`#${c.id} ${c.title}`);
    w.field('Purpose and state', `${PURPOSE_LABELS[c.purpose]}, ${CERTIFICATION_STATUS_LABELS[status]}`);
    w.field('Requested', `${utc(c.requestedAt)} from ${c.recipientName} <${c.recipientEmail}>, due ${c.dueDate}`);
    if (c.signedAt) w.field('Signed', `${utc(c.signedAt)} by ${c.signerName ?? ''}${c.signerTitle ? `, ${c.signerTitle}` : ''} (${c.method === 'upload' ? 'on paper, uploaded' : 'by link'})`);
    if (c.expiresOn) w.field('In force until', c.expiresOn);
    w.field('SHA-256 of the text', c.textSha256);
    if (c.sealSha256) w.field('Seal', c.sealSha256);
    if (c.declineReason) w.field('Declined', c.declineReason);
  }

  w.h1('Reminder history');
  w.small('Every reminder the portal sent about this vendor (reassessments, due and overdue notices, escalations, renewals, notice deadlines, overdue findings), oldest first.');
  const reminders = await ctx.ds.getRepository(Reminder).find({ where: { vendorId: v.id }, order: { createdAt: 'ASC', id: 'ASC' }, select: ['id', 'createdAt', 'rule', 'recipientEmail', 'summary', 'delivery'] });
  if (reminders.length === 0) w.para('None sent.');
  for (const r of reminders) w.para(`${utc(r.createdAt)}  ${RULE_LABELS[r.rule] ?? r.rule}, to ${r.recipientEmail} (${r.delivery === 'digest' ? 'daily digest' : r.delivery === 'action' ? 'request sent' : 'email'}): ${r.summary}`, { size: 8.5 });

  w.h1('Files in this record');
  w.para(`${files.length} stored file${files.length === 1 ? '' : 's'} follow${files.length === 1 ? 's' : ''} this summary, decrypted; manifest.json gives each file's size and SHA-256 (and the SHA-256 recorded at upload).`);
  for (const f of files) w.small(f.path, 12);

  w.h1('Audit trail');
  w.small('Every change to the vendor and its questionnaires, findings, contracts, amendment requests and certifications, oldest first.');
  await writeAuditTrail(ctx, w, v.id, {
    questionnaire: questionnaires.map((q) => q.id),
    finding: findings.map((f) => f.id),
    contract: allContracts.map((c) => c.id),
    amendment: amendments.map((a) => a.id),
    certification: certifications.map((c) => c.id),
  });
}

/** One questionnaire: what was sent, every visible question with its answer and evidence, the score and findings. */
async function writeAssessment(ctx: Context, w: ReturnType<typeof writer>, listed: Questionnaire, files: StoredFile[], findings: Finding[], today: string): Promise<void> {
  const q = await ctx.questionnaires.get(listed.id);
  const status = ctx.questionnaires.displayStatus(q);
  w.h2(`Questionnaire #${q.id}: ${q.title}`);
  w.field('Template', `${q.templateId}, version ${q.templateVersion} (SHA-256 ${q.templateHash})`);
  w.field('Status', QUESTIONNAIRE_STATUS_LABELS[status]);
  w.field('Sent', `${utc(q.sentAt)} to ${q.recipientName} <${q.recipientEmail}>, due ${q.dueDate}`);
  w.field('Submitted', q.submittedAt ? utc(q.submittedAt) : null);
  w.field('Score', q.score === null ? null : `${q.score} / 100`);
  w.field('Residual rating', q.residualRating);
  if (q.decidedAt) w.field('Decision', `${QUESTIONNAIRE_STATUS_LABELS[q.status]} on ${utc(q.decidedAt)}${q.decisionReason ? `: ${q.decisionReason}` : ''}`);
  const answers = new Map((await ctx.ds.getRepository(QuestionnaireAnswer).find({ where: { questionnaireId: q.id } })).map((a) => [a.questionId, a.value]));
  const evidence = await ctx.questionnaires.files(q.id);
  if (answers.size === 0 && evidence.length === 0) {
    w.para('No answer yet.', { indent: 12 });
  } else {
    for (const { q: question } of allQuestions(q.snapshot)) {
      if (!isVisible(question, answers, today)) continue;
      w.para(`${question.id}. ${question.text}`, { indent: 12, font: 'Helvetica-Bold', size: 9 });
      w.small(question.citations.join('; '), 24);
      if (question.type === 'file') {
        const mine = evidence.filter((e) => e.questionId === question.id);
        if (mine.length === 0) w.para('No file uploaded.', { indent: 24 });
        for (const e of mine) {
          const inZip = files.find((f) => f.path.startsWith(`questionnaires/${q.id}/evidence/${e.id}-`));
          w.para(`File: ${e.fileName} (${e.size} bytes) — ${inZip?.path ?? ''}`, { indent: 24 });
          w.mono(`SHA-256 ${e.sha256}`, 24);
        }
      } else {
        w.para(displayAnswer(question, answers.get(question.id)) || 'Not answered.', { indent: 24 });
      }
    }
  }
  if (findings.length) {
    w.para('Findings from this questionnaire:', { indent: 12, font: 'Helvetica-Bold' });
    for (const f of findings) w.para(`#${f.id} [${SEVERITY_LABELS[f.severity]}] ${f.title} (${f.citation}): ${FINDING_STATUS_LABELS[f.status]}`, { indent: 24 });
  }
}

/** The audit entries of the vendor and its records, oldest first, read in batches keyed on (at, id). */
async function writeAuditTrail(ctx: Context, w: ReturnType<typeof writer>, vendorId: number, records: Record<string, number[]>): Promise<void> {
  const repo = ctx.ds.getRepository(AuditEntry);
  let after: { at: Date; id: number } | null = null;
  let count = 0;
  for (;;) {
    const qb = repo.createQueryBuilder('a').where(
      new Brackets((b) => {
        b.where('(a.entityType = :vendorType AND a.entityId = :vendorId)', { vendorType: 'vendor', vendorId: String(vendorId) });
        for (const [type, ids] of Object.entries(records)) {
          if (ids.length) b.orWhere(`(a.entityType = :t_${type} AND a.entityId IN (:...ids_${type}))`, { [`t_${type}`]: type, [`ids_${type}`]: ids.map(String) });
        }
      }),
    );
    if (after) qb.andWhere('(a.at > :afterAt OR (a.at = :afterAt AND a.id > :afterId))', { afterAt: after.at.toISOString(), afterId: after.id });
    const rows = await qb.orderBy('a.at', 'ASC').addOrderBy('a.id', 'ASC').limit(AUDIT_BATCH).getMany();
    for (const e of rows) {
      const what = [e.changes ? `changes ${JSON.stringify(e.changes)}` : '', e.details ? `details ${JSON.stringify(e.details)}` : ''].filter(Boolean).join('; ');
      w.para(`${utc(e.at)}  ${e.action}  ${e.entityType ?? ''} #${e.entityId ?? ''}  by ${e.actorLabel}${e.ip ? ` from ${e.ip}` : ''}`, { size: 8.5 });
      if (what) w.small(what.length > 1500 ? `${what.slice(0, 1500)}…` : what, 12);
    }
    count += rows.length;
    if (rows.length < AUDIT_BATCH) break;
    const last = rows[rows.length - 1]!;
    after = { at: last.at, id: last.id };
  }
  if (count === 0) w.para('No entry.');
}
