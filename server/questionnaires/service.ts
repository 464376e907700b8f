import { type DataSource, type EntityManager, In, IsNull } from 'typeorm';
import { User } from '../accounts/entities';
import { type Actor, recordAudit } from '../audit/service';
import { type Clock, DAY } from '../clock';
import { allStatements, type Transact } from '../db/data-source';
import { jsonRows, jsonValue, rawQuery } from '../db/raw';
import { columnsOf, insertRow } from '../db/rows';
import { ConflictError, GoneError, HttpError, NotFoundError, ValidationError } from '../errors';
import { questionnaireSentEmail } from '../mail/messages/questionnaire-sent';
import { questionnaireSubmittedEmail } from '../mail/messages/questionnaire-submitted';
import { enqueueMail } from '../mail/outbox';
import { decryptText, encryptText, newToken, sha256Hex } from '../security/crypto';
import { liveLinkAddresses } from '../security/live-links';
import { Vendor, VendorContact } from '../vendors/entities';
import { addMonths } from '../vendors/risk';
import { allQuestions, type Answers, isAnswered, isVisible, normalizeAnswer } from './answers';
import { AnswerHistory, type AnswerValue, ClarificationRound, EvidenceFile, Questionnaire, QuestionnaireAnswer, QuestionnaireLink, type QuestionnaireStatus, TemplateSnapshot } from './entities';
import { ACCEPTED_DESCRIPTION, detectType, type EvidenceStore, sanitizeFileName } from './evidence';
import type { TemplateRegistry } from './registry';
import type { Template, TemplateQuestion, TemplateSection } from './template';
import { addDays } from '../dates';

export { addDays };

/** A link stays valid this long after the due date, so a late vendor can still finish. */
export const GRACE_DAYS = 14;
/** After submission the link shows a read-only copy for this long. */
const READ_ONLY_DAYS = 30;
export const DEFAULT_DUE_DAYS = 30;

export interface SendInput {
  vendorId: number;
  contactId: number;
  templateId: string;
  dueDate?: string | null;
}

export type DisplayStatus = QuestionnaireStatus | 'expired';

export const STATUS_LABELS: Record<DisplayStatus, string> = {
  sent: 'Sent',
  in_progress: 'In progress',
  submitted: 'Submitted',
  returned: 'Returned for clarification',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
  revoked: 'Revoked',
};

const OPEN: QuestionnaireStatus[] = ['sent', 'in_progress', 'returned'];

/** An unanswered questionnaire is "due soon" this many days before its due date (the status word users know). */
export const DUE_SOON_DAYS = 7;

/** Filters of the questionnaire list; `due` picks unanswered ones due within DUE_SOON_DAYS, or past due while the link still works. */
export interface QuestionnaireFilter {
  status?: DisplayStatus;
  due?: 'soon' | 'overdue';
  vendorId?: number;
}

export interface QuestionnaireServiceDeps {
  ds: DataSource;
  transact: Transact;
  clock: Clock;
  templates: TemplateRegistry;
  evidence: EvidenceStore;
  mailKey: Buffer;
  mailQueued: () => void;
  baseUrl: string;
  organizationName: string;
  maxFiles: number;
  /** Encrypts link tokens so later emails can carry the same link. */
  linkKey: Buffer;
  /** Runs inside the submission's transaction (scoring and findings). */
  afterSubmit?: (m: EntityManager, actor: Actor, q: Questionnaire) => Promise<void>;
}

export interface UploadedFile {
  questionId: string;
  originalName: string;
  buffer: Buffer;
}

/** The end of a day (UTC) as an instant. */
function endOfDay(date: string): Date {
  return new Date(`${date}T23:59:59.999Z`);
}

/** A questionnaire's answers by question, and its evidence files, oldest first. */
export interface QuestionnaireContent {
  answers: Answers;
  files: EvidenceFile[];
}

/** Questionnaires: sending by link, the vendor's answers and evidence, submission, and the staff actions around them. */
export class QuestionnaireService {
  /** Snapshots never change, so each is parsed once per process. */
  private readonly snapshots = new Map<string, Template>();
  /** contentLists' SQL by the questionnaire's id expression (the same few texts on every page). */
  private readonly contentSql = new Map<string, string>();

  constructor(private readonly d: QuestionnaireServiceDeps) {}

  /** Attaches the template the questionnaire was sent with (from its snapshot, by content hash). */
  async hydrate<T extends Pick<Questionnaire, 'templateHash' | 'snapshot'>>(q: T, m: EntityManager = this.d.ds.manager): Promise<T> {
    if (q.snapshot) return q;
    let content = this.snapshots.get(q.templateHash);
    if (!content) {
      content = (await m.findOneByOrFail(TemplateSnapshot, { hash: q.templateHash })).content;
      this.snapshots.set(q.templateHash, content);
    }
    q.snapshot = content;
    return q;
  }

  today(): string {
    return this.d.clock.now().toISOString().slice(0, 10);
  }

  /** The stored status, or "expired" when an unanswered questionnaire's grace period is over. */
  displayStatus(q: Pick<Questionnaire, 'status' | 'dueDate'>): DisplayStatus {
    if (OPEN.includes(q.status) && this.d.clock.now() > this.linkExpiry(q.dueDate)) return 'expired';
    return q.status;
  }

  linkExpiry(dueDate: string): Date {
    return new Date(endOfDay(dueDate).getTime() + GRACE_DAYS * DAY);
  }

  async get(id: number): Promise<Questionnaire> {
    const q = Number.isSafeInteger(id) ? await this.d.ds.getRepository(Questionnaire).findOne({ where: { id } }) : null;
    if (!q) throw new NotFoundError('No such questionnaire.');
    return this.hydrate(q);
  }

  async forVendor(vendorId: number): Promise<Questionnaire[]> {
    return this.d.ds.getRepository(Questionnaire).find({
      where: { vendorId },
      select: ['id', 'vendorId', 'title', 'templateId', 'templateVersion', 'status', 'dueDate', 'sentAt', 'submittedAt', 'recipientName', 'recipientEmail', 'firstOpenedAt', 'score', 'residualRating', 'decidedAt', 'decisionReason'],
      order: { sentAt: 'DESC', id: 'DESC' },
    });
  }

  /** A page of questionnaires across vendors, newest first, optionally by stored status or overdue. */
  async list(filter: QuestionnaireFilter, page: number, pageSize: number) {
    const qb = this.d.ds
      .getRepository(Questionnaire)
      .createQueryBuilder('q')
      .select(['q.id', 'q.vendorId', 'q.title', 'q.templateId', 'q.templateVersion', 'q.status', 'q.dueDate', 'q.sentAt', 'q.submittedAt', 'q.recipientEmail', 'q.score']);
    const lastValidDue = new Date(this.d.clock.now().getTime() - GRACE_DAYS * DAY).toISOString().slice(0, 10);
    if (filter.status === 'expired') qb.andWhere('q.status IN (:...open) AND q.dueDate < :lastValidDue', { open: OPEN, lastValidDue });
    else if (filter.status && OPEN.includes(filter.status)) qb.andWhere('q.status = :status AND q.dueDate >= :lastValidDue', { status: filter.status, lastValidDue });
    else if (filter.status) qb.andWhere('q.status = :status', { status: filter.status });
    if (filter.vendorId) qb.andWhere('q.vendorId = :vendorId', { vendorId: filter.vendorId });
    const today = this.today();
    if (filter.due === 'soon') qb.andWhere('q.status IN (:...dueOpen) AND q.dueDate >= :today AND q.dueDate <= :soon', { dueOpen: OPEN, today, soon: addDays(today, DUE_SOON_DAYS) });
    if (filter.due === 'overdue') qb.andWhere('q.status IN (:...dueOpen) AND q.dueDate < :today AND q.dueDate >= :lastValidDue', { dueOpen: OPEN, today, lastValidDue });
    const [rows, total] = await qb.orderBy('q.sentAt', 'DESC').addOrderBy('q.id', 'DESC').offset((page - 1) * pageSize).limit(pageSize).getManyAndCount();
    return { rows, total };
  }

  /**
   * Sends a questionnaire: freezes the template as a snapshot, issues the link and queues the email
   * in one transaction. Returns the link (shown once to the sender).
   */
  async send(actor: Actor, input: SendInput): Promise<{ questionnaire: Questionnaire; link: string }> {
    const result = await this.d.transact((m) => this.sendIn(m, actor, input));
    this.d.mailQueued();
    return result;
  }

  /** send() inside the caller's transaction (the reminder sweep sends reassessments this way); the caller kicks mail delivery. */
  async sendIn(m: EntityManager, actor: Actor, input: SendInput): Promise<{ questionnaire: Questionnaire; link: string }> {
    const template = this.d.templates.get(input.templateId);
    if (!template) throw new ValidationError({ templateId: 'Choose a valid questionnaire template.' });
    const dueDate = input.dueDate || addDays(this.today(), DEFAULT_DUE_DAYS);
    if (dueDate <= this.today()) throw new ValidationError({ dueDate: 'The due date must be after today.' });
    {
      const vendor = await m.findOne(Vendor, { where: { id: input.vendorId } });
      if (!vendor) throw new NotFoundError('No such vendor.');
      if (vendor.status === 'terminated') throw new ConflictError('This vendor is terminated; move it back to prospect before sending a questionnaire.');
      const contact = await m.findOne(VendorContact, { where: { id: input.contactId, vendorId: vendor.id } });
      if (!contact) throw new ValidationError({ contactId: 'Choose one of this vendor\'s contacts.' });
      const now = this.d.clock.now();
      if ((await m.count(TemplateSnapshot, { where: { hash: template.contentHash } })) === 0) {
        await m.insert(TemplateSnapshot, { hash: template.contentHash, templateId: template.id, version: template.template.version, content: template.template, createdAt: now });
      }
      const q = await m.save(
        m.create(Questionnaire, {
          vendorId: vendor.id,
          contactId: contact.id,
          recipientName: contact.name,
          recipientEmail: contact.email,
          templateId: template.id,
          templateVersion: template.template.version,
          templateHash: template.contentHash,
          title: template.template.title,
          status: 'sent',
          dueDate,
          sentById: actor.id,
          sentAt: now,
          firstOpenedAt: null,
          lastSavedAt: null,
          submittedAt: null,
          createdAt: now,
          updatedAt: now,
        }),
      );
      q.snapshot = template.template;
      const link = await this.issueLink(m, q, vendor, actor);
      await recordAudit(m, this.d.clock, actor, {
        action: 'questionnaire.sent',
        entityType: 'questionnaire',
        entityId: q.id,
        details: { vendorId: vendor.id, template: `${template.id}@${template.template.version}`, templateHash: template.contentHash, to: contact.email, dueDate },
      });
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.questionnaire_sent',
        entityType: 'vendor',
        entityId: vendor.id,
        details: { questionnaireId: q.id, title: q.title, to: contact.email, dueDate },
      });
      return { questionnaire: q, link };
    }
  }

  /** A new link (the previous one answers 410 from now on) and an email with it. */
  private async issueLink(m: EntityManager, q: Questionnaire, vendor: Vendor, actor: Actor): Promise<string> {
    const now = this.d.clock.now();
    await m.update(QuestionnaireLink, { questionnaireId: q.id, replacedAt: IsNull(), revokedAt: IsNull() }, { replacedAt: now });
    const token = newToken();
    await m.insert(QuestionnaireLink, {
      questionnaireId: q.id,
      tokenHash: sha256Hex(token),
      tokenEncrypted: encryptText(this.d.linkKey, token),
      issuedAt: now,
      expiresAt: this.linkExpiry(q.dueDate),
      replacedAt: null,
      revokedAt: null,
    });
    const link = `${this.d.baseUrl}/q/${token}`;
    const sender = actor.id ? await m.findOne(User, { where: { id: actor.id } }) : null;
    const questions = allQuestions(q.snapshot).length;
    await enqueueMail(
      m,
      this.d.clock,
      this.d.mailKey,
      await questionnaireSentEmail({
        to: q.recipientEmail,
        name: q.recipientName,
        vendorName: vendor.legalName,
        title: q.title,
        dueDate: q.dueDate,
        link,
        questions,
        minutes: q.snapshot.estimated_minutes ?? null,
        senderName: sender?.name ?? this.d.organizationName,
        senderEmail: sender?.email ?? null,
        organizationName: this.d.organizationName,
      }),
    );
    return link;
  }

  /** Sends a fresh link; the old one stops working. Not for submitted or revoked questionnaires. */
  async resend(actor: Actor, id: number): Promise<string> {
    const link = await this.d.transact(async (m) => {
      const q = await m.findOne(Questionnaire, { where: { id } });
      if (!q) throw new NotFoundError('No such questionnaire.');
      if (!OPEN.includes(q.status)) throw new ConflictError(`A ${STATUS_LABELS[q.status].toLowerCase()} questionnaire cannot be resent.`);
      if (this.displayStatus(q) === 'expired') throw new ConflictError('The questionnaire has expired; extend the due date first.');
      const vendor = await m.findOneByOrFail(Vendor, { id: q.vendorId });
      const url = await this.issueLink(m, await this.hydrate(q, m), vendor, actor);
      await recordAudit(m, this.d.clock, actor, { action: 'questionnaire.resent', entityType: 'questionnaire', entityId: q.id, details: { to: q.recipientEmail } });
      return url;
    });
    this.d.mailQueued();
    return link;
  }

  /** Withdraws the questionnaire: its link answers 410 from now on. */
  async revoke(actor: Actor, id: number, reason: string): Promise<void> {
    await this.d.transact(async (m) => {
      const q = await m.findOne(Questionnaire, { where: { id } });
      if (!q) throw new NotFoundError('No such questionnaire.');
      if (!OPEN.includes(q.status)) throw new ConflictError(`A ${STATUS_LABELS[q.status].toLowerCase()} questionnaire cannot be revoked.`);
      const now = this.d.clock.now();
      await m.update(QuestionnaireLink, { questionnaireId: q.id, revokedAt: IsNull() }, { revokedAt: now });
      await m.update(Questionnaire, { id: q.id }, { status: 'revoked', updatedAt: now });
      await recordAudit(m, this.d.clock, actor, { action: 'questionnaire.revoked', entityType: 'questionnaire', entityId: q.id, changes: { status: [q.status, 'revoked'] }, details: { reason } });
    });
  }

  /** Moves the due date (and the link's validity with it). */
  async extend(actor: Actor, id: number, dueDate: string): Promise<void> {
    if (dueDate <= this.today()) throw new ValidationError({ dueDate: 'The new due date must be after today.' });
    await this.d.transact(async (m) => {
      const q = await m.findOne(Questionnaire, { where: { id } });
      if (!q) throw new NotFoundError('No such questionnaire.');
      if (!OPEN.includes(q.status)) throw new ConflictError(`A ${STATUS_LABELS[q.status].toLowerCase()} questionnaire has no due date to move.`);
      await m.update(Questionnaire, { id: q.id }, { dueDate, updatedAt: this.d.clock.now() });
      await m.update(QuestionnaireLink, { questionnaireId: q.id, replacedAt: IsNull(), revokedAt: IsNull() }, { expiresAt: this.linkExpiry(dueDate) });
      await recordAudit(m, this.d.clock, actor, { action: 'questionnaire.due_date_changed', entityType: 'questionnaire', entityId: q.id, changes: { dueDate: [q.dueDate, dueDate] } });
    });
  }

  /**
   * The questionnaire behind a vendor link. Unknown: 404. Replaced, revoked or expired: 410, naming
   * whom to contact but never the vendor. With `content`, also its answers and files (content()),
   * read in the same query, for the pages that show them.
   */
  async resolveLink(token: string, options: { content?: boolean } = {}): Promise<{ questionnaire: Questionnaire; link: QuestionnaireLink; vendorName: string; content: QuestionnaireContent | null }> {
    if (!/^[A-Za-z0-9_-]{40,60}$/.test(token)) throw new NotFoundError('This questionnaire link is not valid. Check that the whole address was copied from the email.');
    // The link, its questionnaire and the vendor's name in one query; every page of the portal starts here.
    const linkColumns = columnsOf(this.d.ds, QuestionnaireLink);
    const questionnaireColumns = columnsOf(this.d.ds, Questionnaire);
    const [row] = await rawQuery<Record<string, unknown>>(
      this.d.ds,
      `SELECT ${linkColumns.list('l')}, ${questionnaireColumns.list('q')}, "v"."legalName" AS "vendorName"${options.content ? `, ${this.contentLists('"q"."id"')}` : ''} FROM "questionnaire_links" "l" INNER JOIN "questionnaires" "q" ON "q"."id" = "l"."questionnaireId" INNER JOIN "vendors" "v" ON "v"."id" = "q"."vendorId" WHERE "l"."tokenHash" = :hash`,
      { hash: sha256Hex(token) },
    );
    if (!row) throw new NotFoundError('This questionnaire link is not valid. Check that the whole address was copied from the email.');
    const link = linkColumns.read(row, 'l');
    const q = await this.hydrate(questionnaireColumns.read(row, 'q'));
    // Whom to contact is looked up only for a link that no longer works.
    if (link.revokedAt) throw new GoneError(`This questionnaire was withdrawn. ${await this.senderContact(q)}`);
    if (link.replacedAt) throw new GoneError(`A newer link to this questionnaire was sent; use the most recent email. ${await this.senderContact(q)}`);
    if (this.d.clock.now() > link.expiresAt) throw new GoneError(`This link has expired. ${await this.senderContact(q)}`);
    return { questionnaire: q, link, vendorName: String(row.vendorName), content: options.content ? this.readContent(row) : null };
  }

  private async senderContact(q: Questionnaire): Promise<string> {
    const sender = q.sentById ? await this.d.ds.getRepository(User).findOne({ where: { id: q.sentById }, select: ['name', 'email'] }) : null;
    return sender ? `Please contact ${sender.name} (${sender.email}) at ${this.d.organizationName}.` : `Please contact your contact at ${this.d.organizationName}.`;
  }

  /** The actor for what a vendor does through a link. */
  vendorActor(q: Questionnaire, link: QuestionnaireLink, ip: string | null): Actor {
    return { type: 'vendor_link', id: null, label: `${q.recipientEmail} (questionnaire link ${link.id})`, ip };
  }

  /** Records the first time the link was opened. */
  async markOpened(q: Questionnaire, actor: Actor): Promise<void> {
    if (q.firstOpenedAt) return;
    await this.d.transact(async (m) => {
      const res = await m.createQueryBuilder().update(Questionnaire).set({ firstOpenedAt: this.d.clock.now() }).where('id = :id AND firstOpenedAt IS NULL', { id: q.id }).execute();
      if (res.affected) await recordAudit(m, this.d.clock, actor, { action: 'questionnaire.opened', entityType: 'questionnaire', entityId: q.id });
    });
  }

  /**
   * A questionnaire's answers and its evidence files (oldest first), read in one query as two JSON
   * lists (see jsonRows): the vendor's pages read little else, and two queries of rows cost them
   * about twice as much.
   */
  async content(questionnaireId: number): Promise<QuestionnaireContent> {
    const [row] = await rawQuery<Record<string, unknown>>(this.d.ds, `SELECT ${this.contentLists(':questionnaireId')}`, { questionnaireId });
    return this.readContent(row!);
  }

  /** The select list of content() for the questionnaire whose id is the SQL expression `id`. */
  private contentLists(id: string): string {
    let sql = this.contentSql.get(id);
    if (sql === undefined) {
      const { ds } = this.d;
      const answers = jsonRows(ds, ['"a"."questionId"', jsonValue(ds, '"a"."value"')], `FROM "questionnaire_answers" "a" WHERE "a"."questionnaireId" = ${id}`, '"a"."id"');
      const files = jsonRows(ds, columnsOf(ds, EvidenceFile).expressions('f'), `FROM "questionnaire_files" "f" WHERE "f"."questionnaireId" = ${id}`, '"f"."uploadedAt", "f"."id"');
      this.contentSql.set(id, (sql = `${answers} AS "answers", ${files} AS "files"`));
    }
    return sql;
  }

  private readContent(row: Record<string, unknown>): QuestionnaireContent {
    const file = columnsOf(this.d.ds, EvidenceFile);
    return {
      answers: new Map(JSON.parse(row.answers as string) as [string, AnswerValue][]),
      files: (JSON.parse(row.files as string) as unknown[][]).map((values) => file.fromValues(values)),
    };
  }

  async files(questionnaireId: number): Promise<EvidenceFile[]> {
    const file = columnsOf(this.d.ds, EvidenceFile);
    const rows = await rawQuery<Record<string, unknown>>(this.d.ds, `SELECT ${file.list('f')} FROM "questionnaire_files" "f" WHERE "f"."questionnaireId" = :questionnaireId ORDER BY "f"."uploadedAt" ASC, "f"."id" ASC`, { questionnaireId });
    return rows.map((row) => file.read(row, 'f'));
  }

  async file(questionnaireId: number, fileId: number): Promise<EvidenceFile> {
    const f = await this.d.ds.getRepository(EvidenceFile).findOne({ where: { id: fileId, questionnaireId } });
    if (!f) throw new NotFoundError('No such file.');
    return f;
  }

  /** Whether the vendor may still change answers (when returned: only the reopened ones). */
  editable(q: Questionnaire): boolean {
    return q.status === 'sent' || q.status === 'in_progress' || q.status === 'returned';
  }

  /** The clarification round the vendor is answering, if the questionnaire was returned. */
  async openRound(q: Questionnaire, m: EntityManager = this.d.ds.manager): Promise<ClarificationRound | null> {
    if (q.status !== 'returned') return null;
    return m.findOne(ClarificationRound, { where: { questionnaireId: q.id, respondedAt: IsNull() }, order: { round: 'DESC' } });
  }

  /**
   * The questions a returned questionnaire lets the vendor change: those the reviewer reopened, and
   * any question shown only because of one of them (a follow-up that the new answer may call for).
   */
  reopenedQuestions(q: Questionnaire, round: ClarificationRound): Set<string> {
    const ids = new Set(round.questions.map((x) => x.questionId));
    for (const { q: question } of allQuestions(q.snapshot)) {
      if (question.show_if && ids.has(question.show_if.question)) ids.add(question.id);
    }
    return ids;
  }

  /** The live link of a questionnaire (for emails after the first), or null if none can be rebuilt. */
  async currentLink(m: EntityManager, questionnaireId: number): Promise<{ url: string; link: QuestionnaireLink } | null> {
    const link = await m.findOne(QuestionnaireLink, { where: { questionnaireId, replacedAt: IsNull(), revokedAt: IsNull() }, order: { id: 'DESC' } });
    if (!link?.tokenEncrypted) return null;
    return { url: `${this.d.baseUrl}/q/${decryptText(this.d.linkKey, link.tokenEncrypted)}`, link };
  }

  /**
   * What currentLink() gives as the address, for many questionnaires in one read per 500 (the
   * reminder sweep's batches): null where a questionnaire has no live link with its token kept.
   */
  currentLinkUrls(m: EntityManager, questionnaireIds: readonly number[]): Promise<Map<number, string | null>> {
    return liveLinkAddresses(m, QuestionnaireLink, 'questionnaireId', questionnaireIds, this.d.linkKey, (token) => `${this.d.baseUrl}/q/${token}`);
  }

  async history(questionnaireId: number): Promise<AnswerHistory[]> {
    return this.d.ds.getRepository(AnswerHistory).find({ where: { questionnaireId }, order: { changedAt: 'ASC', id: 'ASC' } });
  }

  /**
   * Saves what the vendor sent for one section in one transaction: every valid answer is stored,
   * uploaded files are checked by content and stored encrypted, and a file may be removed. Invalid
   * answers are not stored; they come back as field errors so the form can show them again.
   */
  async saveSection(
    actor: Actor,
    q: Questionnaire,
    section: TemplateSection,
    form: Record<string, unknown>,
    uploads: UploadedFile[],
    removeFileId: number | null,
  ): Promise<{ errors: Record<string, string> }> {
    if (!this.editable(q)) throw new ConflictError('This questionnaire has been submitted; its answers can no longer be changed.');
    const round = await this.openRound(q);
    const reopened = round ? this.reopenedQuestions(q, round) : null;
    const errors: Record<string, string> = {};
    const values = new Map<string, AnswerValue>();
    for (const question of section.questions) {
      if (reopened && !reopened.has(question.id)) continue;
      if (question.type === 'file' || form[`present__${question.id}`] === undefined) continue;
      const result = normalizeAnswer(question, form[`a__${question.id}`]);
      if ('error' in result) errors[question.id] = result.error;
      else values.set(question.id, result.value);
    }
    const fileQuestions = new Set(section.questions.filter((x) => x.type === 'file').map((x) => x.id));
    const accepted: { questionId: string; fileName: string; mediaType: string; buffer: Buffer }[] = [];
    for (const up of uploads) {
      if (!fileQuestions.has(up.questionId) || (reopened && !reopened.has(up.questionId))) throw new HttpError(400, 'A file was sent for a question that takes no file here.');
      const mediaType = detectType(up.buffer, up.originalName);
      if (!mediaType) {
        errors[up.questionId] = `“${sanitizeFileName(up.originalName)}” was not accepted: upload ${ACCEPTED_DESCRIPTION} (the file's content decides, not its name${up.buffer.length === 0 ? '; this file is empty' : ''}).`;
        continue;
      }
      accepted.push({ questionId: up.questionId, fileName: sanitizeFileName(up.originalName), mediaType, buffer: up.buffer });
    }
    // The limit is counted only when files are added (without them the save cannot pass it).
    const existingCount = accepted.length > 0 ? await this.d.ds.getRepository(EvidenceFile).count({ where: { questionnaireId: q.id } }) : 0;
    if (accepted.length > 0 && existingCount + accepted.length - (removeFileId ? 1 : 0) > this.d.maxFiles) {
      for (const a of accepted) errors[a.questionId] = `A questionnaire can hold at most ${this.d.maxFiles} files; remove one first.`;
      accepted.length = 0;
    }
    const stored = await Promise.all(accepted.map(async (a) => ({ ...a, ...(await this.d.evidence.put(a.buffer)) })));
    let removed: EvidenceFile | null = null;
    try {
      await this.d.transact(async (m) => {
        const now = this.d.clock.now();
        // Claims the questionnaire's row first: on PostgreSQL a submission running at the same moment
        // waits for this save (and then scores its answers), or this save waits and finds it submitted.
        // Statements that do not depend on each other are issued together (see allStatements): the
        // claim and the read of the current answers, then every answer's write and history row.
        const [started, current] = await allStatements([
          this.claimForSave(m, q.id, now),
          m.find(QuestionnaireAnswer, { where: { questionnaireId: q.id, questionId: In([...values.keys(), '']) }, select: ['id', 'questionId', 'value'] }),
        ] as const);
        if (started === null) throw new ConflictError('This questionnaire has been submitted; its answers can no longer be changed.');
        const existing = new Map(current.map((a) => [a.questionId, a]));
        const writes: Promise<unknown>[] = [];
        let changed = 0;
        for (const [questionId, value] of values) {
          const row = existing.get(questionId);
          if (row) {
            if (JSON.stringify(row.value) === JSON.stringify(value)) continue;
            writes.push(m.update(QuestionnaireAnswer, { id: row.id }, { value, updatedAt: now }));
          } else {
            if (value === null) continue;
            writes.push(insertRow(m, QuestionnaireAnswer, { questionnaireId: q.id, questionId, value, updatedAt: now }));
          }
          writes.push(insertRow(m, AnswerHistory, { questionnaireId: q.id, questionId, previousValue: row?.value ?? null, newValue: value, changedBy: actor.label, changedAt: now }));
          changed += 1;
        }
        await allStatements(writes);
        for (const s of stored) {
          const f = await m.save(
            m.create(EvidenceFile, { questionnaireId: q.id, questionId: s.questionId, fileName: s.fileName, storedName: s.storedName, mediaType: s.mediaType, size: s.buffer.length, sha256: s.sha256, uploadedAt: now }),
          );
          await recordAudit(m, this.d.clock, actor, { action: 'evidence.uploaded', entityType: 'questionnaire', entityId: q.id, details: { fileId: f.id, questionId: s.questionId, fileName: s.fileName, mediaType: s.mediaType, size: s.buffer.length, sha256: s.sha256 } });
        }
        if (removeFileId) {
          removed = await m.findOne(EvidenceFile, { where: { id: removeFileId, questionnaireId: q.id } });
          if (!removed || (reopened && !reopened.has(removed.questionId))) throw new NotFoundError('No such file.');
          await m.delete(EvidenceFile, { id: removed.id });
          await recordAudit(m, this.d.clock, actor, { action: 'evidence.removed', entityType: 'questionnaire', entityId: q.id, details: { fileId: removed.id, fileName: removed.fileName } });
        }
        if (changed > 0) await recordAudit(m, this.d.clock, actor, { action: 'questionnaire.answers_saved', entityType: 'questionnaire', entityId: q.id, details: { section: section.id, answers: changed } });
        if (started) await recordAudit(m, this.d.clock, actor, { action: 'questionnaire.started', entityType: 'questionnaire', entityId: q.id, changes: { status: ['sent', 'in_progress'] } });
      });
    } catch (err) {
      await Promise.all(stored.map((s) => this.d.evidence.remove(s.storedName)));
      throw err;
    }
    if (removed) await this.d.evidence.remove((removed as EvidenceFile).storedName);
    return { errors };
  }

  /** Touches the questionnaire's row if the vendor may still change it; the update locks the row until the transaction ends. */
  private async stillEditable(m: EntityManager, id: number, now: Date): Promise<boolean> {
    const res = await m.createQueryBuilder().update(Questionnaire).set({ updatedAt: now }).where('id = :id AND status IN (:...open)', { id, open: ['sent', 'in_progress', 'returned'] }).execute();
    return res.affected === 1;
  }

  /**
   * Marks the questionnaire saved now if the vendor may still change it, moving a sent one to in
   * progress; the update locks the row until the transaction ends. Returns whether this save started
   * it (it was sent), or null when it can no longer be changed.
   */
  private async claimForSave(m: EntityManager, id: number, now: Date): Promise<boolean | null> {
    const update = (set: Partial<Questionnaire>, statuses: QuestionnaireStatus[]) =>
      m.createQueryBuilder().update(Questionnaire).set(set).where('id = :id AND status IN (:...statuses)', { id, statuses }).execute();
    // Most saves are of a questionnaire already in progress: one statement.
    if ((await update({ lastSavedAt: now, updatedAt: now }, ['in_progress', 'returned'])).affected === 1) return false;
    if ((await update({ status: 'in_progress', lastSavedAt: now, updatedAt: now }, ['sent'])).affected === 1) return true;
    return null;
  }

  /** The required questions (among those shown) still unanswered, in order. */
  missingRequired(q: Questionnaire, answers: Answers, files: EvidenceFile[]): { sectionId: string; question: TemplateQuestion }[] {
    const today = this.today();
    const counts = countFiles(files);
    return allQuestions(q.snapshot)
      .filter(({ q: question }) => question.required && isVisible(question, answers, today) && !isAnswered(question, answers.get(question.id), counts.get(question.id) ?? 0))
      .map(({ sectionId, q: question }) => ({ sectionId, question }));
  }

  /** Progress over the questions shown: answered / total, overall and per section. */
  progress(q: Questionnaire, answers: Answers, files: EvidenceFile[]) {
    const today = this.today();
    const counts = countFiles(files);
    const sections = q.snapshot.sections.map((s) => {
      const shown = s.questions.filter((x) => isVisible(x, answers, today));
      const answered = shown.filter((x) => isAnswered(x, answers.get(x.id), counts.get(x.id) ?? 0)).length;
      return { id: s.id, title: s.title, answered, total: shown.length };
    });
    const answered = sections.reduce((n, s) => n + s.answered, 0);
    const total = sections.reduce((n, s) => n + s.total, 0);
    return { sections, answered, total, percent: total ? Math.round((answered / total) * 100) : 0 };
  }

  /**
   * Submits: refuses while required answers are missing (listing them), then locks the answers and
   * emails the vendor contact and the business owner, in one transaction.
   */
  async submit(actor: Actor, q: Questionnaire): Promise<void> {
    if (!this.editable(q)) throw new ConflictError('This questionnaire has already been submitted.');
    const { answers, files } = await this.content(q.id);
    const missing = this.missingRequired(q, answers, files);
    if (missing.length > 0) {
      throw new ValidationError(Object.fromEntries(missing.map((x) => [x.question.id, 'This question needs an answer.'])), `${missing.length} required question${missing.length === 1 ? ' is' : 's are'} not answered yet.`);
    }
    await this.d.transact(async (m) => {
      const now = this.d.clock.now();
      // Claims the row before reading it: two submissions at the same moment (a double click, on
      // PostgreSQL two connections) cannot both find it open.
      if (!(await this.stillEditable(m, q.id, now))) throw new ConflictError('This questionnaire has already been submitted.');
      const fresh = await m.findOneByOrFail(Questionnaire, { id: q.id });
      const round = await this.openRound(fresh, m);
      if (round) await m.update(ClarificationRound, { id: round.id }, { respondedAt: now });
      await m.update(Questionnaire, { id: q.id }, { status: 'submitted', submittedAt: now, updatedAt: now });
      const readOnlyUntil = new Date(now.getTime() + READ_ONLY_DAYS * DAY);
      const links = await m.find(QuestionnaireLink, { where: { questionnaireId: q.id, replacedAt: IsNull(), revokedAt: IsNull() } });
      for (const l of links) if (l.expiresAt < readOnlyUntil) await m.update(QuestionnaireLink, { id: l.id }, { expiresAt: readOnlyUntil });
      await recordAudit(m, this.d.clock, actor, {
        action: round ? 'questionnaire.resubmitted' : 'questionnaire.submitted',
        entityType: 'questionnaire',
        entityId: q.id,
        changes: { status: [fresh.status, 'submitted'] },
        details: round ? { round: round.round } : undefined,
      });
      await this.d.afterSubmit?.(m, actor, { ...fresh, snapshot: q.snapshot, status: 'submitted', submittedAt: now });
      const vendor = await m.findOneByOrFail(Vendor, { id: q.vendorId });
      await recordAudit(m, this.d.clock, actor, { action: 'vendor.questionnaire_submitted', entityType: 'vendor', entityId: vendor.id, details: { questionnaireId: q.id, title: q.title } });
      const owner = vendor.businessOwnerId ? await m.findOne(User, { where: { id: vendor.businessOwnerId } }) : null;
      const recipients = [{ to: q.recipientEmail, name: q.recipientName, staff: false }];
      if (owner && owner.active) recipients.push({ to: owner.email, name: owner.name, staff: true });
      for (const r of recipients) {
        await enqueueMail(
          m,
          this.d.clock,
          this.d.mailKey,
          await questionnaireSubmittedEmail({
            to: r.to,
            name: r.name,
            staff: r.staff,
            vendorName: vendor.legalName,
            title: q.title,
            submittedAt: now,
            submittedBy: q.recipientEmail,
            staffLink: `${this.d.baseUrl}/questionnaires/${q.id}`,
            organizationName: this.d.organizationName,
          }),
        );
      }
    });
    this.d.mailQueued();
  }
}

export function countFiles(files: EvidenceFile[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of files) counts.set(f.questionId, (counts.get(f.questionId) ?? 0) + 1);
  return counts;
}


export { addMonths };
