import { type DataSource, type EntityManager, In, type SelectQueryBuilder } from 'typeorm';
import { User } from '../accounts/entities';
import { type Actor, diffFields, escapeLike, LIKE_ESCAPE, recordAudit } from '../audit/service';
import { DAY, type Clock } from '../clock';
import type { Transact } from '../db/data-source';
import { rawInt, rawQuery } from '../db/raw';
import { columnsOf } from '../db/rows';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { Severity } from '../questionnaires/template';
import { Vendor } from '../vendors/entities';
import { Finding, type FindingStatus, OPEN_FINDING_STATUSES, type Remediator } from './entities';
import type { FindingInput } from './schema';
import { addDays } from '../dates';

export { addDays };

export interface FindingServiceDeps {
  ds: DataSource;
  transact: Transact;
  clock: Clock;
  /**
   * Called inside the transaction whenever a vendor's open findings may have changed (a finding
   * added, its severity edited, its status moved), so derived figures such as a residual rating
   * can follow in the same transaction.
   */
  openFindingsChanged?: (m: EntityManager, actor: Actor, vendorId: number) => Promise<void>;
}

export const STATUS_LABELS: Record<FindingStatus, string> = {
  open: 'Open',
  remediation_planned: 'Remediation planned',
  resolved: 'Resolved',
  risk_accepted: 'Risk accepted',
  closed: 'Closed',
};

export const SEVERITY_LABELS: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };

export const REMEDIATOR_LABELS: Record<Remediator, string> = { vendor: 'The vendor', us: 'We do' };

/**
 * The moves a finding may make with a status change. Risk acceptance is not among them: it has its
 * own action (acceptRisk), with a reason, an expiry and a second person.
 */
export const FINDING_TRANSITIONS: Record<FindingStatus, FindingStatus[]> = {
  open: ['remediation_planned', 'resolved', 'closed'],
  remediation_planned: ['resolved', 'closed', 'open'],
  risk_accepted: ['open', 'closed'],
  resolved: ['open'],
  closed: ['open'],
};

/** Statuses from which risk can be accepted. */
export const RISK_ACCEPTABLE_FROM: readonly FindingStatus[] = OPEN_FINDING_STATUSES;

/** The longest a risk acceptance may last before it must be looked at again. */
export const MAX_ACCEPTANCE_YEARS = 3;

/** The fields of a finding a person edits; the rest is set by the workflow. */
export const EDITABLE_FIELDS = ['title', 'severity', 'citation', 'description', 'ownerId', 'remediatedBy', 'remediationPlan', 'dueDate'] as const;

/** Age bands of findings (days since recorded): under 30, 30 to 89, 90 and more. */
export const FINDING_AGE_BANDS = ['under_30', '30_to_90', 'over_90'] as const;
export type FindingAgeBand = (typeof FINDING_AGE_BANDS)[number];

export const AGE_BAND_LABELS: Record<FindingAgeBand, string> = { under_30: 'Under 30 days', '30_to_90': '30–89 days', over_90: '90 days or more' };

export interface FindingFilter {
  /** How long ago the finding was recorded. */
  age?: FindingAgeBand;
  severity?: Severity;
  /** 'open' matches open and remediation planned (OPEN_FINDING_STATUSES). */
  status?: FindingStatus;
  /** true: past the due date while open, or risk acceptance expired; false: neither. */
  overdue?: boolean;
  vendorId?: number;
  /** Text the citation contains, any case. */
  citation?: string;
}

/** The fields of a finding a list row shows (see findingRow). */
const LIST_COLUMNS = ['id', 'vendorId', 'title', 'severity', 'citation', 'status', 'source', 'remediatedBy', 'dueDate', 'riskAcceptanceExpiresOn', 'ownerId', 'createdAt'] as const satisfies readonly (keyof Finding)[];
export type FindingListFields = Pick<Finding, (typeof LIST_COLUMNS)[number]>;

/** " WHERE a AND b", or nothing without conditions. */
function where(conditions: string[]): string {
  return conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
}

/** Days from one instant to another, whole days rounded down. */
export function daysBetween(from: Date, to: Date): number {
  return Math.max(0, Math.floor((to.getTime() - from.getTime()) / DAY));
}

/** Whether a finding needs attention now: due date passed while open, or its risk acceptance expired. */
export function isOverdue(f: Pick<Finding, 'status' | 'dueDate' | 'riskAcceptanceExpiresOn'>, today: string): boolean {
  if (OPEN_FINDING_STATUSES.includes(f.status)) return f.dueDate !== null && f.dueDate < today;
  if (f.status === 'risk_accepted') return f.riskAcceptanceExpiresOn !== null && f.riskAcceptanceExpiresOn < today;
  return false;
}

/** Findings: added by hand or generated from answers; edited, moved through their statuses, risk-accepted. */
export class FindingService {
  constructor(private readonly d: FindingServiceDeps) {}

  private get repo() {
    return this.d.ds.getRepository(Finding);
  }

  /** Today's date (UTC) as YYYY-MM-DD. */
  today(): string {
    return this.d.clock.now().toISOString().slice(0, 10);
  }

  /** One finding; 404 when there is none with this id. */
  async get(id: number): Promise<Finding> {
    const f = Number.isSafeInteger(id) ? await this.repo.findOne({ where: { id } }) : null;
    if (!f) throw new NotFoundError('No such finding.');
    return f;
  }

  /** The statuses a finding may move to with a status change. */
  nextStatuses(f: Finding): FindingStatus[] {
    return FINDING_TRANSITIONS[f.status];
  }

  /** Whether this actor may accept the finding's risk now (status allows it, and they did not create it). */
  canAcceptRisk(f: Finding, actorId: number): boolean {
    return RISK_ACCEPTABLE_FROM.includes(f.status) && !this.isCreator(f, actorId);
  }

  /** Generated findings have no creator, so nobody is barred from accepting them. */
  isCreator(f: Finding, actorId: number | null): boolean {
    return f.createdById !== null && f.createdById === actorId;
  }

  private async checkOwner(m: EntityManager, ownerId: number | null | undefined): Promise<void> {
    if (ownerId === null || ownerId === undefined) return;
    const owner = await m.findOne(User, { where: { id: ownerId }, select: ['id', 'active'] });
    if (!owner || !owner.active) throw new ValidationError({ ownerId: 'Owner must be an active user.' });
  }

  private checkPlanned(v: { remediationPlan: string | null; dueDate: string | null }): void {
    const fields: Record<string, string> = {};
    if (!v.remediationPlan) fields.remediationPlan = 'A remediation plan is required when remediation is planned.';
    if (!v.dueDate) fields.dueDate = 'A due date is required when remediation is planned.';
    if (Object.keys(fields).length) throw new ValidationError(fields, 'Remediation planned needs a remediation plan and a due date.');
  }

  /** Records a finding added by hand to a vendor; open, created by the actor; audited on the finding and the vendor. */
  async create(actor: Actor, vendorId: number, input: FindingInput): Promise<Finding> {
    return this.d.transact(async (m) => {
      const vendor = await m.findOne(Vendor, { where: { id: vendorId }, select: ['id'] });
      if (!vendor) throw new NotFoundError('No such vendor.');
      await this.checkOwner(m, input.ownerId);
      const now = this.d.clock.now();
      const f = await m.save(
        m.create(Finding, {
          vendorId,
          questionnaireId: null,
          questionId: null,
          ruleKey: null,
          source: 'manual',
          title: input.title,
          severity: input.severity,
          citation: input.citation,
          description: input.description ?? null,
          answerText: null,
          ownerId: input.ownerId ?? null,
          remediatedBy: input.remediatedBy,
          remediationPlan: input.remediationPlan ?? null,
          dueDate: input.dueDate ?? null,
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
      const summary = { title: f.title, severity: f.severity, citation: f.citation };
      await recordAudit(m, this.d.clock, actor, { action: 'finding.created', entityType: 'finding', entityId: f.id, details: { vendorId, ...summary, remediatedBy: f.remediatedBy, dueDate: f.dueDate } });
      await recordAudit(m, this.d.clock, actor, { action: 'vendor.finding_added', entityType: 'vendor', entityId: vendorId, details: { findingId: f.id, ...summary } });
      await this.d.openFindingsChanged?.(m, actor, vendorId);
      return f;
    });
  }

  /**
   * Applies changed fields. Only fields present in `changes` are touched; a finding with remediation
   * planned keeps its plan and due date. Audited with before and after.
   */
  async update(actor: Actor, id: number, changes: Partial<FindingInput>): Promise<Finding> {
    return this.d.transact(async (m) => {
      const f = await m.findOne(Finding, { where: { id } });
      if (!f) throw new NotFoundError('No such finding.');
      const merged: Finding = { ...f };
      for (const k of EDITABLE_FIELDS) {
        const v = changes[k];
        if (v !== undefined) Object.assign(merged, { [k]: v });
      }
      if (merged.status === 'remediation_planned') this.checkPlanned(merged);
      if (changes.ownerId !== undefined && changes.ownerId !== f.ownerId) await this.checkOwner(m, changes.ownerId);
      const diff = diffFields(f, merged, EDITABLE_FIELDS);
      if (Object.keys(diff).length === 0) return f;
      merged.updatedAt = this.d.clock.now();
      await m.save(Finding, merged);
      await recordAudit(m, this.d.clock, actor, { action: 'finding.updated', entityType: 'finding', entityId: f.id, changes: diff });
      if (diff.severity && OPEN_FINDING_STATUSES.includes(f.status)) await this.d.openFindingsChanged?.(m, actor, f.vendorId);
      return merged;
    });
  }

  /**
   * Moves a finding to another status: only the allowed moves (409 naming them otherwise). A move
   * to remediation planned needs a plan and a due date, which may come with the move. Leaving risk
   * accepted ends the acceptance. Audited on the finding and on the vendor's timeline.
   */
  async transition(actor: Actor, id: number, to: FindingStatus, opts: { reason?: string | null; remediationPlan?: string | null; dueDate?: string | null } = {}): Promise<Finding> {
    return this.d.transact(async (m) => {
      const f = await m.findOne(Finding, { where: { id } });
      if (!f) throw new NotFoundError('No such finding.');
      const allowed = FINDING_TRANSITIONS[f.status];
      if (!allowed.includes(to)) {
        const moves = allowed.map((s) => STATUS_LABELS[s]).join(', ');
        const hint = to === 'risk_accepted' ? ' Risk is accepted with its own action, which needs a reason, an expiry date and an approver other than the creator.' : '';
        const message = `A finding cannot move from ${STATUS_LABELS[f.status]} to ${STATUS_LABELS[to]}; from ${STATUS_LABELS[f.status]} it can move to ${moves}.${hint}`;
        throw new ConflictError(message, { to: message });
      }
      const now = this.d.clock.now();
      const next: Finding = {
        ...f,
        status: to,
        remediationPlan: opts.remediationPlan ?? f.remediationPlan,
        dueDate: opts.dueDate ?? f.dueDate,
        closedAt: to === 'closed' || to === 'resolved' ? now : null,
        updatedAt: now,
      };
      if (f.status === 'risk_accepted') Object.assign(next, { riskAcceptedById: null, riskAcceptanceReason: null, riskAcceptanceExpiresOn: null });
      if (to === 'remediation_planned') this.checkPlanned(next);
      await this.compareAndSave(m, f, next);
      const reason = opts.reason ?? null;
      await recordAudit(m, this.d.clock, actor, {
        action: to === 'open' ? 'finding.reopened' : `finding.${to}`,
        entityType: 'finding',
        entityId: f.id,
        changes: diffFields(f, next, ['status', 'remediationPlan', 'dueDate', 'riskAcceptedById', 'riskAcceptanceReason', 'riskAcceptanceExpiresOn']),
        details: reason ? { reason } : undefined,
      });
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.finding_status_changed',
        entityType: 'vendor',
        entityId: f.vendorId,
        details: { findingId: f.id, title: f.title, severity: f.severity, from: f.status, to, ...(reason ? { reason } : {}) },
      });
      await this.d.openFindingsChanged?.(m, actor, f.vendorId);
      return next;
    });
  }

  /**
   * Accepts a finding's risk for a while: only from open or remediation planned, never by the person
   * who recorded it, with a reason and an expiry after today and at most three years ahead. Audited
   * on the finding and on the vendor's timeline.
   */
  async acceptRisk(actor: Actor, id: number, reason: string, expiresOn: string): Promise<Finding> {
    return this.d.transact(async (m) => {
      const f = await m.findOne(Finding, { where: { id } });
      if (!f) throw new NotFoundError('No such finding.');
      if (this.isCreator(f, actor.id)) {
        throw new ForbiddenError('You recorded this finding, so you cannot accept its risk: another reviewer or an administrator must approve it.');
      }
      if (!RISK_ACCEPTABLE_FROM.includes(f.status)) {
        const message = `Risk can be accepted only for a finding that is Open or Remediation planned; this one is ${STATUS_LABELS[f.status]}.`;
        throw new ConflictError(message);
      }
      const today = this.today();
      const latest = addYears(today, MAX_ACCEPTANCE_YEARS);
      if (expiresOn <= today) throw new ValidationError({ expiresOn: `Expiry date must be after today (${today}).` });
      if (expiresOn > latest) throw new ValidationError({ expiresOn: `Expiry date must be at most ${MAX_ACCEPTANCE_YEARS} years ahead (${latest} at the latest).` });
      const now = this.d.clock.now();
      const next: Finding = { ...f, status: 'risk_accepted', riskAcceptedById: actor.id, riskAcceptanceReason: reason, riskAcceptanceExpiresOn: expiresOn, closedAt: null, updatedAt: now };
      await this.compareAndSave(m, f, next);
      await recordAudit(m, this.d.clock, actor, {
        action: 'finding.risk_accepted',
        entityType: 'finding',
        entityId: f.id,
        changes: diffFields(f, next, ['status', 'riskAcceptedById', 'riskAcceptanceExpiresOn']),
        details: { reason, expiresOn },
      });
      await recordAudit(m, this.d.clock, actor, {
        action: 'vendor.finding_status_changed',
        entityType: 'vendor',
        entityId: f.vendorId,
        details: { findingId: f.id, title: f.title, severity: f.severity, from: f.status, to: 'risk_accepted', reason, expiresOn },
      });
      await this.d.openFindingsChanged?.(m, actor, f.vendorId);
      return next;
    });
  }

  /** Saves a status change only if nobody moved the finding meanwhile (two reviewers at once on PostgreSQL). */
  private async compareAndSave(m: EntityManager, before: Finding, next: Finding): Promise<void> {
    const { id: _id, ...fields } = next;
    const res = await m.update(Finding, { id: before.id, status: before.status }, fields);
    if (res.affected === 0) throw new ConflictError('This finding was changed by someone else meanwhile. Reload the page and try again.');
  }

  /**
   * The list filters as SQL conditions over findings aliased "f" (quoted identifiers, named
   * parameters), shared by the query builder (applyFilter) and the list page's plain query.
   */
  private filterConditions(filter: FindingFilter): { conditions: string[]; params: Record<string, unknown> } {
    const conditions: string[] = [];
    const params: Record<string, unknown> = {};
    if (filter.severity) {
      conditions.push('"f"."severity" = :severity');
      params.severity = filter.severity;
    }
    if (filter.status === 'open') {
      conditions.push('"f"."status" IN (:...openStatuses)');
      params.openStatuses = OPEN_FINDING_STATUSES;
    } else if (filter.status) {
      conditions.push('"f"."status" = :status');
      params.status = filter.status;
    }
    if (filter.vendorId !== undefined) {
      conditions.push('"f"."vendorId" = :vendorId');
      params.vendorId = filter.vendorId;
    }
    if (filter.citation) {
      conditions.push(`LOWER("f"."citation") LIKE :citation ${LIKE_ESCAPE}`);
      params.citation = `%${escapeLike(filter.citation.toLowerCase())}%`;
    }
    if (filter.age) {
      const now = this.d.clock.now().getTime();
      const d30 = new Date(now - 30 * DAY).toISOString();
      const d90 = new Date(now - 90 * DAY).toISOString();
      Object.assign(params, { d30, d90 });
      if (filter.age === 'under_30') conditions.push('"f"."createdAt" > :d30');
      else if (filter.age === '30_to_90') conditions.push('"f"."createdAt" <= :d30 AND "f"."createdAt" > :d90');
      else conditions.push('"f"."createdAt" <= :d90');
    }
    if (filter.overdue !== undefined) {
      // Each branch tests its dates for NULL, so the whole is never NULL and NOT (...) is exact.
      const overdue =
        '(("f"."status" IN (:...overdueOpen) AND "f"."dueDate" IS NOT NULL AND "f"."dueDate" < :today) OR ("f"."status" = \'risk_accepted\' AND "f"."riskAcceptanceExpiresOn" IS NOT NULL AND "f"."riskAcceptanceExpiresOn" < :today))';
      conditions.push(filter.overdue ? overdue : `NOT ${overdue}`);
      Object.assign(params, { overdueOpen: OPEN_FINDING_STATUSES, today: this.today() });
    }
    return { conditions, params };
  }

  /** Applies the list filters to a query over findings aliased `f`. */
  applyFilter(qb: SelectQueryBuilder<Finding>, filter: FindingFilter): SelectQueryBuilder<Finding> {
    const { conditions, params } = this.filterConditions(filter);
    for (const c of conditions) qb.andWhere(c);
    return qb.setParameters(params);
  }

  /** One page of the filtered list, newest first, and the total count. */
  async list(filter: FindingFilter, page: number, pageSize: number): Promise<{ findings: Finding[]; total: number }> {
    const base = () => this.applyFilter(this.repo.createQueryBuilder('f'), filter);
    const qb = base().orderBy('f.createdAt', 'DESC').addOrderBy('f.id', 'DESC');
    const [findings, total] = await Promise.all([qb.offset((page - 1) * pageSize).limit(pageSize).getMany(), this.count(filter)]);
    return { findings, total };
  }

  /**
   * How many findings match. COUNT(*) rather than TypeORM's COUNT(1): without a filter, SQLite then
   * counts the entries of its smallest index instead of reading every row (0.2 ms instead of 4 ms
   * for 76,000 findings).
   */
  async count(filter: FindingFilter): Promise<number> {
    const { conditions, params } = this.filterConditions(filter);
    const [{ n = 0 } = {}] = await rawQuery<{ n: number | string }>(this.d.ds, `SELECT COUNT(*) AS "n" FROM "findings" "f"${where(conditions)}`, params);
    return rawInt(n);
  }

  /**
   * One page of the filtered list as the list page shows it, with the names it shows (the
   * vendor's and the owner's), and the total count: one plain query for the page reading only the
   * shown columns (names by primary key), one count.
   */
  async listWithNames(filter: FindingFilter, page: number, pageSize: number): Promise<{ findings: FindingListFields[]; total: number; vendorNames: Map<number, string>; userNames: Map<number, string> }> {
    const { conditions, params } = this.filterConditions(filter);
    const columns = columnsOf(this.d.ds, Finding, LIST_COLUMNS);
    const sql =
      `SELECT ${columns.list('f')}, ` +
      `(SELECT "n"."legalName" FROM "vendors" "n" WHERE "n"."id" = "f"."vendorId") AS "vendorName", ` +
      `(SELECT "n"."name" FROM "users" "n" WHERE "n"."id" = "f"."ownerId") AS "ownerName" ` +
      `FROM "findings" "f"${where(conditions)} ORDER BY "f"."createdAt" DESC, "f"."id" DESC LIMIT :limit OFFSET :offset`;
    const [raw, total] = await Promise.all([rawQuery<Record<string, unknown>>(this.d.ds, sql, { ...params, limit: pageSize, offset: (page - 1) * pageSize }), this.count(filter)]);
    const vendorNames = new Map<number, string>();
    const userNames = new Map<number, string>();
    const findings = raw.map((r): FindingListFields => {
      const f = columns.read(r, 'f');
      if (typeof r.vendorName === 'string') vendorNames.set(f.vendorId, r.vendorName);
      if (f.ownerId !== null && typeof r.ownerName === 'string') userNames.set(f.ownerId, r.ownerName);
      return f;
    });
    return { findings, total, vendorNames, userNames };
  }

  /** Legal names of the vendors of a page of findings, in one query. */
  async vendorNames(findings: Pick<Finding, 'vendorId'>[]): Promise<Map<number, string>> {
    const wanted = [...new Set(findings.map((f) => f.vendorId))];
    if (wanted.length === 0) return new Map();
    const rows = await this.d.ds.getRepository(Vendor).find({ where: { id: In(wanted) }, select: ['id', 'legalName'] });
    return new Map(rows.map((v) => [v.id, v.legalName]));
  }

  /** Names of the people a page of findings mentions (owners, creators, approvers), in one query. */
  async userNames(findings: Pick<Finding, 'ownerId' | 'createdById' | 'riskAcceptedById'>[]): Promise<Map<number, string>> {
    const wanted = [...new Set(findings.flatMap((f) => [f.ownerId, f.createdById, f.riskAcceptedById]).filter((i): i is number => i !== null))];
    if (wanted.length === 0) return new Map();
    const rows = await this.d.ds.getRepository(User).find({ where: { id: In(wanted) }, select: ['id', 'name'] });
    return new Map(rows.map((u) => [u.id, u.name]));
  }

  /** Active users who can own a finding, for the owner menu. */
  async ownerOptions(): Promise<{ id: number; name: string }[]> {
    return this.d.ds.getRepository(User).find({ where: { active: true }, select: ['id', 'name'], order: { name: 'ASC' } });
  }
}

/** A YYYY-MM-DD date some years later (29 February becomes 1 March in a common year). */
export function addYears(date: string, years: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.toISOString().slice(0, 10);
}

