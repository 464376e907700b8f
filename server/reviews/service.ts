import { type DataSource, type EntityManager, In } from 'typeorm';
import { User } from '../accounts/entities';
import { type Actor, recordAudit } from '../audit/service';
import type { Clock } from '../clock';
import type { Transact } from '../db/data-source';
import { rawInt, rawQuery } from '../db/raw';
import { columnsOf } from '../db/rows';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import { Finding, OPEN_FINDING_STATUSES } from '../findings/entities';
import { syncGeneratedFindings, worstOpenSeverity } from '../findings/generated';
import { clarificationRequestedEmail } from '../mail/messages/clarification-requested';
import { enqueueMail } from '../mail/outbox';
import { allQuestions } from '../questionnaires/answers';
import { ClarificationRound, EvidenceFile, Questionnaire, QuestionnaireLink, QuestionnaireAnswer, QuestionReview, type ReviewMark } from '../questionnaires/entities';
import { countFiles, type QuestionnaireService } from '../questionnaires/service';
import { SEVERITIES, type Severity } from '../questionnaires/template';
import { Vendor } from '../vendors/entities';
import { deriveRisk } from '../vendors/service';
import type { ReassessmentIntervals } from '../vendors/risk';
import { residualRating, scoreAnswers } from './scoring';

/** Submitted questionnaires get this long to come back after a clarification request. */
const CLARIFICATION_DAYS = 14;

export interface MarkInput {
  questionId: string;
  mark: ReviewMark | null;
  comment: string | null;
  clarification: string | null;
}

export interface ReviewServiceDeps {
  ds: DataSource;
  transact: Transact;
  clock: Clock;
  questionnaires: QuestionnaireService;
  intervals: ReassessmentIntervals;
  mailKey: Buffer;
  mailQueued: () => void;
  organizationName: string;
}

/** The security review: scoring at submission, marks and comments, clarification rounds, and the decision. */
export class ReviewService {
  constructor(private readonly d: ReviewServiceDeps) {}

  /**
   * Scores a submission and syncs its generated findings; then the questionnaire's and the vendor's
   * score and residual rating. Runs inside the submission's transaction.
   */
  async scoreSubmission(m: EntityManager, actor: Actor, q: Questionnaire): Promise<void> {
    const today = this.d.clock.now().toISOString().slice(0, 10);
    const answers = new Map((await m.find(QuestionnaireAnswer, { where: { questionnaireId: q.id } })).map((a) => [a.questionId, a.value]));
    const files = await m.find(EvidenceFile, { where: { questionnaireId: q.id } });
    const { score, findings } = scoreAnswers(q.snapshot, answers, countFiles(files), today);
    const synced = await syncGeneratedFindings(m, this.d.clock, actor, { vendorId: q.vendorId, questionnaireId: q.id }, findings);
    const vendor = await m.findOneByOrFail(Vendor, { id: q.vendorId });
    const rating = residualRating(vendor.tier, await worstOpenSeverity(m, vendor.id));
    await m.update(Questionnaire, { id: q.id }, { score, residualRating: rating });
    await m.update(Vendor, { id: vendor.id }, { lastScore: score, residualRating: rating });
    await recordAudit(m, this.d.clock, { type: 'system', id: null, label: 'scoring', ip: null }, {
      action: 'questionnaire.scored',
      entityType: 'questionnaire',
      entityId: q.id,
      details: { score, residualRating: rating, findingsOpened: synced.opened, findingsClosed: synced.closed },
    });
  }

  /** Recomputes a vendor's residual rating from its tier and open findings (after a finding changes). */
  async refreshRating(m: EntityManager, vendorId: number): Promise<Severity> {
    const vendor = await m.findOneByOrFail(Vendor, { id: vendorId });
    const rating = residualRating(vendor.tier, await worstOpenSeverity(m, vendorId));
    if (vendor.residualRating !== rating && vendor.lastScore !== null) await m.update(Vendor, { id: vendorId }, { residualRating: rating });
    return rating;
  }

  async marks(questionnaireId: number): Promise<Map<string, QuestionReview>> {
    const rows = await this.d.ds.getRepository(QuestionReview).find({ where: { questionnaireId } });
    return new Map(rows.map((r) => [r.questionId, r]));
  }

  async rounds(questionnaireId: number): Promise<ClarificationRound[]> {
    return this.d.ds.getRepository(ClarificationRound).find({ where: { questionnaireId }, order: { round: 'ASC' } });
  }

  private async reviewable(m: EntityManager, id: number): Promise<Questionnaire> {
    const q = await m.findOne(Questionnaire, { where: { id } });
    if (!q) throw new NotFoundError('No such questionnaire.');
    if (q.status !== 'submitted') throw new ConflictError(`Only a submitted questionnaire can be reviewed; this one is ${q.status.replace('_', ' ')}.`);
    return this.d.questionnaires.hydrate(q, m);
  }

  /**
   * Saves the reviewer's marks. A question newly marked "finding" without an open finding gets one
   * (severity from its strongest rule, else medium), to be completed on the finding's page.
   */
  async saveMarks(actor: Actor, questionnaireId: number, input: MarkInput[]): Promise<number> {
    return this.d.transact(async (m) => {
      const q = await this.reviewable(m, questionnaireId);
      const questions = new Map(allQuestions(q.snapshot).map((x) => [x.q.id, x.q]));
      const existing = new Map((await m.find(QuestionReview, { where: { questionnaireId } })).map((r) => [r.questionId, r]));
      const now = this.d.clock.now();
      let changed = 0;
      for (const mark of input) {
        const question = questions.get(mark.questionId);
        if (!question) throw new ValidationError({ [mark.questionId]: 'No such question in this questionnaire.' });
        if (mark.mark === 'clarify' && !mark.clarification) throw new ValidationError({ [mark.questionId]: 'Write what the vendor should clarify.' });
        const row = existing.get(mark.questionId);
        const same = row && row.mark === mark.mark && row.comment === mark.comment && row.clarification === mark.clarification;
        if (same || (!row && !mark.mark && !mark.comment && !mark.clarification)) continue;
        if (row) await m.update(QuestionReview, { id: row.id }, { mark: mark.mark, comment: mark.comment, clarification: mark.clarification, updatedById: actor.id, updatedAt: now });
        else await m.insert(QuestionReview, { questionnaireId, questionId: mark.questionId, mark: mark.mark, comment: mark.comment, clarification: mark.clarification, updatedById: actor.id, updatedAt: now });
        changed += 1;
        await recordAudit(m, this.d.clock, actor, {
          action: 'review.question_marked',
          entityType: 'questionnaire',
          entityId: questionnaireId,
          changes: { [mark.questionId]: [row?.mark ?? null, mark.mark] },
          details: { questionId: mark.questionId, comment: mark.comment },
        });
        if (mark.mark === 'finding' && row?.mark !== 'finding') {
          const open = await m.count(Finding, { where: { questionnaireId, questionId: mark.questionId, status: In(OPEN_FINDING_STATUSES) } });
          if (open === 0) {
            const strongest = (['critical', 'high', 'medium', 'low'] as Severity[]).find((s) => question.risk.some((r) => r.severity === s)) ?? 'medium';
            const f = await m.save(
              m.create(Finding, {
                vendorId: q.vendorId,
                questionnaireId,
                questionId: question.id,
                ruleKey: null,
                source: 'manual',
                title: `Review finding: ${question.text}`.slice(0, 300),
                severity: strongest,
                citation: question.citations.join('; ').slice(0, 300),
                description: mark.comment,
                answerText: null,
                ownerId: actor.id,
                remediatedBy: 'vendor',
                remediationPlan: null,
                dueDate: null,
                status: 'open',
                riskAcceptedById: null,
                riskAcceptanceReason: null,
                riskAcceptanceExpiresOn: null,
                createdById: actor.id,
                createdAt: now,
                updatedAt: now,
                closedAt: null,
              }),
            );
            await recordAudit(m, this.d.clock, actor, { action: 'finding.created', entityType: 'finding', entityId: f.id, details: { vendorId: q.vendorId, questionnaireId, questionId: question.id, severity: strongest } });
            await this.refreshRating(m, q.vendorId);
          }
        }
      }
      return changed;
    });
  }

  /**
   * Returns the questionnaire to the vendor for the questions marked "needs clarification": their
   * link reopens only those, with the reviewer's message beside each. Emails the vendor contact.
   */
  async requestClarification(actor: Actor, questionnaireId: number): Promise<ClarificationRound> {
    const round = await this.d.transact(async (m) => {
      const q = await this.reviewable(m, questionnaireId);
      const marked = await m.find(QuestionReview, { where: { questionnaireId, mark: 'clarify' } });
      if (marked.length === 0) throw new ConflictError('Mark at least one question "needs clarification", with a message for the vendor, first.');
      const order = allQuestions(q.snapshot).map((x) => x.q.id);
      const questions = marked.sort((a, b) => order.indexOf(a.questionId) - order.indexOf(b.questionId)).map((r) => ({ questionId: r.questionId, message: r.clarification ?? '' }));
      const previous = await m.count(ClarificationRound, { where: { questionnaireId } });
      const now = this.d.clock.now();
      const saved = await m.save(m.create(ClarificationRound, { questionnaireId, round: previous + 1, questions, requestedById: actor.id, requestedAt: now, respondedAt: null }));
      const dueDate = new Date(now.getTime() + CLARIFICATION_DAYS * 86_400_000).toISOString().slice(0, 10);
      await m.update(Questionnaire, { id: q.id }, { status: 'returned', dueDate, updatedAt: now });
      const live = await this.d.questionnaires.currentLink(m, q.id);
      if (!live) throw new ConflictError('This questionnaire has no live link; resend it first.');
      await m.update(QuestionnaireLink, { id: live.link.id }, { expiresAt: this.d.questionnaires.linkExpiry(dueDate) });
      // The reopened questions are no longer marked: the reviewer looks at them again after the answer.
      await m.update(QuestionReview, { questionnaireId, mark: 'clarify' }, { mark: null, updatedAt: now });
      const vendor = await m.findOneByOrFail(Vendor, { id: q.vendorId });
      const reviewer = actor.id ? await m.findOne(User, { where: { id: actor.id } }) : null;
      const texts = new Map(allQuestions(q.snapshot).map((x) => [x.q.id, x.q.text]));
      await enqueueMail(
        m,
        this.d.clock,
        this.d.mailKey,
        await clarificationRequestedEmail({
          to: q.recipientEmail,
          name: q.recipientName,
          vendorName: vendor.legalName,
          title: q.title,
          questions: questions.map((x) => `${texts.get(x.questionId)} — ${x.message}`),
          dueDate,
          link: live.url,
          reviewerName: reviewer?.name ?? this.d.organizationName,
          reviewerEmail: reviewer?.email ?? null,
          organizationName: this.d.organizationName,
        }),
      );
      await recordAudit(m, this.d.clock, actor, {
        action: 'questionnaire.returned',
        entityType: 'questionnaire',
        entityId: q.id,
        changes: { status: ['submitted', 'returned'] },
        details: { round: saved.round, questions: questions.map((x) => x.questionId) },
      });
      await recordAudit(m, this.d.clock, actor, { action: 'vendor.clarification_requested', entityType: 'vendor', entityId: vendor.id, details: { questionnaireId: q.id, questions: questions.length } });
      return saved;
    });
    this.d.mailQueued();
    return round;
  }

  /**
   * Approves (open findings stay as conditions) or rejects a submitted questionnaire, with a reason.
   * Approval sets the vendor's last assessment date to today and its next reassessment from its tier;
   * a rejection keeps the vendor from becoming active until an admin overrides it.
   */
  async decide(actor: Actor, questionnaireId: number, decision: 'approved' | 'rejected', reason: string): Promise<Questionnaire> {
    if (actor.type !== 'user') throw new ForbiddenError();
    return this.d.transact(async (m) => {
      const q = await this.reviewable(m, questionnaireId);
      const now = this.d.clock.now();
      const today = now.toISOString().slice(0, 10);
      const vendor = await m.findOneByOrFail(Vendor, { id: q.vendorId });
      await m.update(Questionnaire, { id: q.id }, { status: decision, decisionReason: reason, decidedById: actor.id, decidedAt: now, updatedAt: now });
      const openFindings = await m.count(Finding, { where: { questionnaireId: q.id, status: In(OPEN_FINDING_STATUSES) } });
      const vendorChanges: Partial<Vendor> = { lastDecision: decision, updatedAt: now };
      if (decision === 'approved') {
        Object.assign(vendorChanges, { lastAssessedOn: today, nextReassessmentOn: deriveRisk(this.d.intervals, { ...vendor, lastAssessedOn: today }).nextReassessmentOn });
      }
      await m.update(Vendor, { id: vendor.id }, vendorChanges);
      await recordAudit(m, this.d.clock, actor, {
        action: `questionnaire.${decision}`,
        entityType: 'questionnaire',
        entityId: q.id,
        changes: { status: ['submitted', decision] },
        details: { reason, openFindings },
      });
      await recordAudit(m, this.d.clock, actor, {
        action: decision === 'approved' ? 'vendor.assessment_approved' : 'vendor.assessment_rejected',
        entityType: 'vendor',
        entityId: vendor.id,
        changes: decision === 'approved' ? { lastAssessedOn: [vendor.lastAssessedOn, today], nextReassessmentOn: [vendor.nextReassessmentOn, vendorChanges.nextReassessmentOn ?? null] } : { lastDecision: [vendor.lastDecision, 'rejected'] },
        details: { questionnaireId: q.id, reason, openFindingsAsConditions: decision === 'approved' ? openFindings : undefined },
      });
      return { ...q, status: decision, decisionReason: reason, decidedById: actor.id, decidedAt: now };
    });
  }

  /**
   * What the vendor page shows of its questionnaires: each one (newest sent first, the columns of
   * QuestionnaireService.forVendor), and its risk history: each assessment (newest submitted first)
   * with its score, rating and findings by severity. One plain query: the vendor's questionnaires
   * with the findings of the assessed ones counted beside them.
   */
  async vendorQuestionnaires(vendorId: number): Promise<{ questionnaires: VendorPageQuestionnaire[]; riskHistory: RiskHistoryRow[] }> {
    const columns = columnsOf(this.d.ds, Questionnaire, VENDOR_PAGE_QUESTIONNAIRE_COLUMNS);
    const count = (severity: Severity) => `SUM(CASE WHEN "f"."severity" = '${severity}' THEN 1 ELSE 0 END) AS "${severity}"`;
    const rows = await rawQuery<Record<string, unknown>>(
      this.d.ds,
      `SELECT ${columns.list('q')}, ${SEVERITIES.map(count).join(', ')} ` +
        'FROM "questionnaires" "q" LEFT JOIN "findings" "f" ON "f"."questionnaireId" = "q"."id" AND "q"."status" IN (:...assessed) ' +
        'WHERE "q"."vendorId" = :vendorId GROUP BY "q"."id" ORDER BY "q"."sentAt" DESC, "q"."id" DESC',
      { vendorId, assessed: ASSESSED },
    );
    const questionnaires: RiskHistoryRow[] = rows.map((r) => ({
      ...columns.read(r, 'q'),
      findings: { critical: rawInt(r.critical ?? 0), high: rawInt(r.high ?? 0), medium: rawInt(r.medium ?? 0), low: rawInt(r.low ?? 0) },
    }));
    const riskHistory = questionnaires
      .filter((q) => ASSESSED.includes(q.status))
      .sort((a, b) => (b.submittedAt?.getTime() ?? -Infinity) - (a.submittedAt?.getTime() ?? -Infinity) || b.id - a.id);
    return { questionnaires, riskHistory };
  }
}

/** The statuses of a questionnaire that has been assessed (submitted, then reviewed). */
const ASSESSED: Questionnaire['status'][] = ['submitted', 'returned', 'approved', 'rejected'];

/** The columns of a questionnaire the vendor page reads (QuestionnaireService.forVendor reads the same). */
const VENDOR_PAGE_QUESTIONNAIRE_COLUMNS = [
  'id',
  'vendorId',
  'title',
  'templateId',
  'templateVersion',
  'status',
  'dueDate',
  'sentAt',
  'submittedAt',
  'recipientName',
  'recipientEmail',
  'firstOpenedAt',
  'score',
  'residualRating',
  'decidedAt',
  'decisionReason',
] as const satisfies readonly (keyof Questionnaire)[];

/** A questionnaire as the vendor page reads it. */
export type VendorPageQuestionnaire = Pick<Questionnaire, (typeof VENDOR_PAGE_QUESTIONNAIRE_COLUMNS)[number]>;

/** An assessment on the vendor page's risk history: the questionnaire and its findings by severity. */
export type RiskHistoryRow = VendorPageQuestionnaire & { findings: Record<Severity, number> };
