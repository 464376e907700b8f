import { type DataSource, type EntityManager, In, type SelectQueryBuilder } from 'typeorm';
import { User } from '../accounts/entities';
import { type Actor, diffFields, recordAudit } from '../audit/service';
import type { Clock } from '../clock';
import type { Transact } from '../db/data-source';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { Finding } from '../findings/entities';
import { SEVERITIES, type Severity } from '../questionnaires/template';
import { Vendor } from '../vendors/entities';
import type { Clause, ClauseCatalogue } from './catalogue';
import { AmendmentComment, AmendmentItem, type AmendmentStatus, Contract, ContractAmendment, ContractClause, ContractFile, OPEN_AMENDMENT_STATUSES } from './entities';
import { AMENDMENT_STATUS_LABELS } from './labels';
import { addDays, type ContractService, type Upload } from './service';

export interface AmendmentServiceDeps {
  ds: DataSource;
  transact: Transact;
  clock: Clock;
  catalogue: ClauseCatalogue;
  contracts: ContractService;
  /**
   * Called inside the transaction of a refusal, after its finding is recorded, so derived figures
   * such as the vendor's residual rating follow in the same transaction.
   */
  openFindingsChanged?: (m: EntityManager, vendorId: number) => Promise<unknown>;
}

/**
 * The negotiation, one step at a time: drafted -> sent -> negotiating -> executed, with refused and
 * withdrawn as the other ways out. Executing has its own action (it needs the executed document).
 */
export const AMENDMENT_TRANSITIONS: Record<AmendmentStatus, AmendmentStatus[]> = {
  drafted: ['sent', 'withdrawn'],
  sent: ['negotiating', 'refused', 'withdrawn'],
  negotiating: ['executed', 'refused', 'withdrawn'],
  executed: [],
  refused: [],
  withdrawn: [],
};

/** The citation of the finding a refusal opens: the contractual duty of 17.03(2)(f)(2). */
export const REFUSAL_CITATION = '201 CMR 17.03(2)(f)(2)';

/** Days ahead the target date of a new amendment defaults to. */
export const DEFAULT_TARGET_DAYS = 30;

export interface AmendmentFilter {
  /** 'open': drafted, sent or in negotiation (the default); 'all': any. */
  status?: 'open' | 'all' | AmendmentStatus;
  ownerId?: number | 'none';
  /** true: still open and past its target date; false: not. */
  overdue?: boolean;
  vendorId?: number;
}

/** A missing or partial clause of an active contract that an amendment could add. */
export interface EligibleItem {
  contract: Contract;
  clause: Clause;
  row: ContractClause;
  /** The open amendment already covering it, if any. */
  openAmendmentId: number | null;
}

/** Whether an amendment is still open and past its target date. */
export function isAmendmentOverdue(a: Pick<ContractAmendment, 'status' | 'targetDate'>, today: string): boolean {
  return OPEN_AMENDMENT_STATUSES.includes(a.status) && a.targetDate !== null && a.targetDate < today;
}

/** Amendment requests: opened from missing or partial clauses, negotiated, executed, refused or withdrawn. */
export class AmendmentService {
  constructor(private readonly d: AmendmentServiceDeps) {}

  private get repo() {
    return this.d.ds.getRepository(ContractAmendment);
  }

  /** Today's date (UTC) as YYYY-MM-DD. */
  today(): string {
    return this.d.clock.now().toISOString().slice(0, 10);
  }

  /** One amendment; 404 when there is none with this id. */
  async get(id: number): Promise<ContractAmendment> {
    const a = Number.isSafeInteger(id) ? await this.repo.findOne({ where: { id } }) : null;
    if (!a) throw new NotFoundError('No such amendment request.');
    return a;
  }

  /** The moves an amendment may make next. */
  nextStatuses(a: ContractAmendment): AmendmentStatus[] {
    return AMENDMENT_TRANSITIONS[a.status];
  }

  /** The items of several requests, in one query. */
  async items(amendmentIds: number[]): Promise<Map<number, AmendmentItem[]>> {
    const out = new Map<number, AmendmentItem[]>();
    if (amendmentIds.length === 0) return out;
    const rows = await this.d.ds.getRepository(AmendmentItem).find({ where: { amendmentId: In([...new Set(amendmentIds)]) }, order: { id: 'ASC' } });
    for (const r of rows) out.set(r.amendmentId, [...(out.get(r.amendmentId) ?? []), r]);
    return out;
  }

  /** A request's comment thread, oldest first. */
  async comments(amendmentId: number): Promise<AmendmentComment[]> {
    return this.d.ds.getRepository(AmendmentComment).find({ where: { amendmentId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** A request's redlines and executed document. */
  async files(amendmentId: number): Promise<ContractFile[]> {
    return this.d.ds.getRepository(ContractFile).find({ where: { amendmentId }, order: { id: 'ASC' } });
  }

  /** One file of a request; 404 otherwise. */
  async file(amendmentId: number, fileId: number): Promise<ContractFile> {
    const f = await this.d.ds.getRepository(ContractFile).findOne({ where: { id: fileId, amendmentId } });
    if (!f) throw new NotFoundError('No such file for this amendment request.');
    return f;
  }

  /** A vendor's amendments, newest first. */
  async forVendor(vendorId: number): Promise<ContractAmendment[]> {
    return this.repo.find({ where: { vendorId }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** Amendments that include one contract, newest first. */
  async forContract(contractId: number): Promise<ContractAmendment[]> {
    return this.repo
      .createQueryBuilder('a')
      .where('a.id IN (SELECT "i"."amendmentId" FROM "contract_amendment_items" "i" WHERE "i"."contractId" = :contractId)', { contractId })
      .orderBy('a.createdAt', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .getMany();
  }

  /**
   * Every missing or partial clause of the vendor's active contracts that applies to the vendor, with
   * the open amendment already covering it (such a clause cannot join a second one).
   */
  async eligibleItems(vendorId: number): Promise<EligibleItem[]> {
    const cov = await this.d.contracts.vendorCoverage(vendorId);
    const open = await this.d.contracts.openAmendmentsFor(cov.activeContracts.map((c) => c.id));
    const out: EligibleItem[] = [];
    for (const c of cov.activeContracts) {
      for (const x of cov.clauses) {
        const entry = x.byContract.get(c.id);
        if (!entry?.row || (entry.state !== 'missing' && entry.state !== 'partial')) continue;
        const taken = open.get(c.id)?.find((o) => o.clauseId === x.clause.id);
        out.push({ contract: c, clause: x.clause, row: entry.row, openAmendmentId: taken?.amendmentId ?? null });
      }
    }
    return out;
  }

  private async checkOwner(m: EntityManager, ownerId: number | null | undefined): Promise<void> {
    if (ownerId === null || ownerId === undefined) return;
    const owner = await m.findOne(User, { where: { id: ownerId }, select: ['id', 'active'] });
    if (!owner || !owner.active) throw new ValidationError({ ownerId: 'Owner must be an active user.' });
  }

  private checkTarget(targetDate: string | null | undefined): void {
    if (targetDate && targetDate < this.today()) throw new ValidationError({ targetDate: `Target date cannot be in the past (today is ${this.today()}).` });
  }

  /**
   * Opens an amendment request for missing or partial clauses of one vendor's active contracts. A
   * clause already under another open request is refused (409). Audited on the request and the vendor.
   */
  async open(
    actor: Actor,
    vendorId: number,
    input: { title?: string | null; ownerId?: number | null; targetDate?: string | null; items: { contractId: number; clauseId: string }[]; comment?: string | null },
  ): Promise<ContractAmendment> {
    this.checkTarget(input.targetDate);
    const wanted = [...new Map(input.items.map((i) => [`${i.contractId}:${i.clauseId}`, i])).values()];
    const eligible = await this.eligibleItems(vendorId);
    const chosen: EligibleItem[] = [];
    for (const w of wanted) {
      const e = eligible.find((x) => x.contract.id === w.contractId && x.clause.id === w.clauseId);
      if (!e) {
        throw new ValidationError({ items: `${w.clauseId} of contract ${w.contractId} cannot be amended: only missing or partial clauses of this vendor's active contracts can.` });
      }
      if (e.openAmendmentId !== null) {
        const message = `${w.clauseId} of “${e.contract.title}” is already part of open amendment request #${e.openAmendmentId}.`;
        throw new ConflictError(message, { items: message });
      }
      chosen.push(e);
    }
    // Catalogue order, whatever order they were chosen in.
    const order = new Map(this.d.catalogue.list().map((c, i) => [c.id, i]));
    chosen.sort((x, y) => order.get(x.clause.id)! - order.get(y.clause.id)! || x.contract.id - y.contract.id);
    const title = input.title ?? defaultTitle(chosen);
    return this.d.transact(async (m) => {
      await this.checkOwner(m, input.ownerId);
      // Checked again inside the transaction: two people opening requests for the same clause at once.
      const taken = await m
        .createQueryBuilder(AmendmentItem, 'i')
        .innerJoin(ContractAmendment, 'a', 'a.id = i.amendmentId')
        .where('a.status IN (:...open)', { open: OPEN_AMENDMENT_STATUSES })
        .andWhere('i.contractId IN (:...contracts)', { contracts: chosen.map((c) => c.contract.id) })
        .getMany();
      const clash = taken.find((t) => chosen.some((c) => c.contract.id === t.contractId && c.clause.id === t.clauseId));
      if (clash) throw new ConflictError(`${clash.clauseId} is already part of open amendment request #${clash.amendmentId}.`);
      const now = this.d.clock.now();
      const a = await m.save(
        m.create(ContractAmendment, {
          vendorId,
          title,
          status: 'drafted',
          ownerId: input.ownerId ?? null,
          targetDate: input.targetDate ?? null,
          sentAt: null,
          negotiatingAt: null,
          closedAt: null,
          closingReason: null,
          findingId: null,
          createdById: actor.id,
          createdAt: now,
          updatedAt: now,
        }),
      );
      for (const c of chosen) await m.insert(AmendmentItem, { amendmentId: a.id, contractId: c.contract.id, clauseId: c.clause.id, statusAtOpening: c.row.status, reference: null });
      const items = chosen.map((c) => ({ contractId: c.contract.id, clauseId: c.clause.id, was: c.row.status }));
      await recordAudit(m, this.d.clock, actor, { action: 'amendment.opened', entityType: 'amendment', entityId: a.id, details: { vendorId, title, ownerId: a.ownerId, targetDate: a.targetDate, items } });
      await recordAudit(m, this.d.clock, actor, { action: 'vendor.amendment_opened', entityType: 'vendor', entityId: vendorId, details: { amendmentId: a.id, title, clauses: [...new Set(items.map((i) => i.clauseId))] } });
      for (const contractId of new Set(items.map((i) => i.contractId))) {
        await recordAudit(m, this.d.clock, actor, { action: 'contract.amendment_opened', entityType: 'contract', entityId: contractId, details: { amendmentId: a.id, clauses: items.filter((i) => i.contractId === contractId).map((i) => i.clauseId) } });
      }
      if (input.comment) await this.addComment(m, actor, a.id, input.comment);
      return a;
    });
  }

  /** Changes the title, owner or target date of an open request; audited with before and after. */
  async update(actor: Actor, id: number, changes: { title?: string | null; ownerId?: number | null; targetDate?: string | null }): Promise<ContractAmendment> {
    if (changes.targetDate !== undefined) this.checkTarget(changes.targetDate);
    return this.d.transact(async (m) => {
      const a = await m.findOne(ContractAmendment, { where: { id } });
      if (!a) throw new NotFoundError('No such amendment request.');
      if (!OPEN_AMENDMENT_STATUSES.includes(a.status)) throw new ConflictError(`This amendment request is ${AMENDMENT_STATUS_LABELS[a.status]} and can no longer be changed.`);
      const next: ContractAmendment = { ...a };
      if (changes.title !== undefined) next.title = changes.title ?? a.title;
      if (changes.ownerId !== undefined) next.ownerId = changes.ownerId;
      if (changes.targetDate !== undefined) next.targetDate = changes.targetDate;
      if (next.ownerId !== a.ownerId) await this.checkOwner(m, next.ownerId);
      const diff = diffFields(a, next, ['title', 'ownerId', 'targetDate']);
      if (Object.keys(diff).length === 0) return a;
      next.updatedAt = this.d.clock.now();
      await m.save(ContractAmendment, next);
      await recordAudit(m, this.d.clock, actor, { action: 'amendment.updated', entityType: 'amendment', entityId: a.id, changes: diff });
      return next;
    });
  }

  /** The 409 for a move the negotiation does not allow, naming the allowed ones. */
  private refuseMove(a: ContractAmendment, to: AmendmentStatus): ConflictError {
    const allowed = AMENDMENT_TRANSITIONS[a.status];
    const from = AMENDMENT_STATUS_LABELS[a.status];
    const message = allowed.length
      ? `An amendment request cannot move from ${from} to ${AMENDMENT_STATUS_LABELS[to]}; from ${from} it can move to ${allowed.map((s) => AMENDMENT_STATUS_LABELS[s]).join(', ')}.`
      : `This amendment request is ${from}: that is final, so it cannot move to ${AMENDMENT_STATUS_LABELS[to]}.`;
    return new ConflictError(message, { to: message });
  }

  /** Saves a move only if nobody moved the request meanwhile. */
  private async compareAndSave(m: EntityManager, before: ContractAmendment, fields: Partial<ContractAmendment>): Promise<void> {
    const res = await m.update(ContractAmendment, { id: before.id, status: before.status }, fields);
    if (res.affected === 0) throw new ConflictError('This amendment request was changed by someone else meanwhile. Reload the page and try again.');
  }

  /**
   * Moves a request one step: sent, in negotiation, refused or withdrawn (refusal and withdrawal need
   * a reason). A refusal opens a finding "missing contractual safeguard" for a risk decision. Dated
   * and audited on the request and the vendor's timeline.
   */
  async transition(actor: Actor, id: number, to: AmendmentStatus, reason: string | null = null): Promise<ContractAmendment> {
    return this.d.transact(async (m) => {
      const a = await m.findOne(ContractAmendment, { where: { id } });
      if (!a) throw new NotFoundError('No such amendment request.');
      if (!AMENDMENT_TRANSITIONS[a.status].includes(to)) throw this.refuseMove(a, to);
      if (to === 'executed') throw new ValidationError({ to: 'Executing needs the executed document and the section of each clause: use the execute form.' }, 'Executing needs the executed document.');
      if ((to === 'refused' || to === 'withdrawn') && !reason) throw new ValidationError({ reason: `A reason is required when the request is ${to}.` });
      const now = this.d.clock.now();
      const fields: Partial<ContractAmendment> = { status: to, updatedAt: now };
      if (to === 'sent') fields.sentAt = now;
      if (to === 'negotiating') fields.negotiatingAt = now;
      if (to === 'refused' || to === 'withdrawn') Object.assign(fields, { closedAt: now, closingReason: reason });
      await this.compareAndSave(m, a, fields);
      const next = { ...a, ...fields };
      if (to === 'refused') next.findingId = await this.openRefusalFinding(m, actor, next, reason!);
      await recordAudit(m, this.d.clock, actor, {
        action: `amendment.${to}`,
        entityType: 'amendment',
        entityId: a.id,
        changes: { status: [a.status, to] },
        details: { ...(reason ? { reason } : {}), ...(next.findingId && to === 'refused' ? { findingId: next.findingId } : {}) },
      });
      await recordAudit(m, this.d.clock, actor, { action: 'vendor.amendment_status_changed', entityType: 'vendor', entityId: a.vendorId, details: { amendmentId: a.id, title: a.title, from: a.status, to, ...(reason ? { reason } : {}) } });
      return next;
    });
  }

  /**
   * Records a refused amendment as a finding on the vendor (the contract lacks a safeguard 17.03(2)(f)(2)
   * asks for), for reviewers to decide on the risk; as the findings module records a manual finding.
   */
  private async openRefusalFinding(m: EntityManager, actor: Actor, a: ContractAmendment, reason: string): Promise<number> {
    const items = await m.find(AmendmentItem, { where: { amendmentId: a.id }, order: { id: 'ASC' } });
    const contracts = new Map((await m.find(Contract, { where: { id: In(items.map((i) => i.contractId)) }, select: ['id', 'title'] })).map((c) => [c.id, c.title]));
    const clauses = [...new Set(items.map((i) => i.clauseId))].map((cid) => this.d.catalogue.get(cid) ?? null);
    const known = clauses.filter((c): c is Clause => c !== null);
    const severity: Severity = SEVERITIES.find((s) => known.some((c) => c.severity === s)) ?? 'high';
    const onlyBestPractice = known.length > 0 && known.every((c) => c.basis === 'best_practice');
    const names = [...new Set(items.map((i) => i.clauseId))].map((cid) => {
      const c = this.d.catalogue.get(cid);
      return c ? `${c.id} ${c.title}` : cid;
    });
    const lines = items.map((i) => {
      const c = this.d.catalogue.get(i.clauseId);
      const basis = c?.basis === 'best_practice' ? ' — best practice, not required by 201 CMR 17.00' : '';
      return `- ${c ? `${c.id} ${c.title} (${c.citations.join('; ')})${basis}` : i.clauseId} in “${contracts.get(i.contractId) ?? `contract ${i.contractId}`}”, which was ${i.statusAtOpening}`;
    });
    const description = [
      `The vendor refused amendment request #${a.id} (“${a.title}”), which was to add to its contracts:`,
      ...lines,
      '',
      `Reason given: ${reason}`,
      '',
      'A risk decision is needed: accept the risk for a time, or plan remediation (negotiate again, add compensating controls, or replace the vendor).',
    ].join('\n');
    const now = this.d.clock.now();
    const f = await m.save(
      m.create(Finding, {
        vendorId: a.vendorId,
        questionnaireId: null,
        questionId: null,
        ruleKey: null,
        source: 'manual',
        title: `Missing contractual safeguard: ${names.join(', ')}`.slice(0, 300),
        severity,
        citation: onlyBestPractice ? 'Best practice (not required by 201 CMR 17.00)' : REFUSAL_CITATION,
        description,
        answerText: null,
        ownerId: null,
        remediatedBy: 'us',
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
    await m.update(ContractAmendment, { id: a.id }, { findingId: f.id });
    const summary = { title: f.title, severity: f.severity, citation: f.citation };
    await recordAudit(m, this.d.clock, actor, { action: 'finding.created', entityType: 'finding', entityId: f.id, details: { vendorId: a.vendorId, ...summary, remediatedBy: f.remediatedBy, dueDate: null, amendmentId: a.id } });
    await recordAudit(m, this.d.clock, actor, { action: 'vendor.finding_added', entityType: 'vendor', entityId: a.vendorId, details: { findingId: f.id, ...summary } });
    await this.d.openFindingsChanged?.(m, a.vendorId);
    return f.id;
  }

  /**
   * Executes a request in negotiation with the executed document: each clause becomes present in its
   * contract at the section given. Only once, and only from negotiation. Audited on the request, each
   * contract and the vendor.
   */
  async execute(actor: Actor, id: number, references: Record<number, string | null | undefined>, document: Upload | null): Promise<ContractAmendment> {
    const a = await this.get(id);
    if (!AMENDMENT_TRANSITIONS[a.status].includes('executed')) throw this.refuseMove(a, 'executed');
    const items = (await this.items([a.id])).get(a.id) ?? [];
    const errors: Record<string, string> = {};
    for (const i of items) {
      const ref = references[i.id]?.trim();
      if (!ref) errors[`reference__${i.id}`] = `${i.clauseId}: give the section of the executed amendment that adds it, such as §14.2.`;
      else if (ref.length > 100) errors[`reference__${i.id}`] = `${i.clauseId}: the section reference must be at most 100 characters.`;
    }
    if (!document) errors.document = 'Upload the executed amendment (a PDF or Word document).';
    if (Object.keys(errors).length) throw new ValidationError(errors);
    const stored = await this.d.contracts.storeFile(document!, 'document');
    try {
      return await this.d.transact(async (m) => {
        const now = this.d.clock.now();
        const fresh = await m.findOne(ContractAmendment, { where: { id } });
        if (!fresh || !AMENDMENT_TRANSITIONS[fresh.status].includes('executed')) throw this.refuseMove(fresh ?? a, 'executed');
        await this.compareAndSave(m, fresh, { status: 'executed', closedAt: now, updatedAt: now });
        const file = await this.d.contracts.saveFile(m, actor, stored, { vendorId: a.vendorId, amendmentId: a.id, kind: 'executed' });
        const day = now.toISOString().slice(0, 10);
        for (const i of items) {
          const reference = references[i.id]!.trim();
          await m.update(AmendmentItem, { id: i.id }, { reference });
          const before = await m.findOne(ContractClause, { where: { contractId: i.contractId, clauseId: i.clauseId } });
          const note = `Added by amendment request #${a.id}, executed ${day}.`;
          if (before) await m.update(ContractClause, { id: before.id }, { status: 'present', reference, note, amendmentId: a.id, reviewedById: actor.id, reviewedAt: now });
          else await m.insert(ContractClause, { contractId: i.contractId, clauseId: i.clauseId, status: 'present', reference, note, amendmentId: a.id, reviewedById: actor.id, reviewedAt: now });
          await recordAudit(m, this.d.clock, actor, {
            action: 'contract.clause_reviewed',
            entityType: 'contract',
            entityId: i.contractId,
            changes: diffFields({ status: before?.status ?? 'not_reviewed', reference: before?.reference ?? null, note: before?.note ?? null }, { status: 'present', reference, note }, ['status', 'reference', 'note']),
            details: { clauseId: i.clauseId, amendmentId: a.id },
          });
          await m.update(Contract, { id: i.contractId }, { updatedAt: now });
        }
        await recordAudit(m, this.d.clock, actor, {
          action: 'amendment.executed',
          entityType: 'amendment',
          entityId: a.id,
          changes: { status: [fresh.status, 'executed'] },
          details: { fileId: file.id, fileName: file.fileName, sha256: file.sha256, references: Object.fromEntries(items.map((i) => [`${i.contractId}:${i.clauseId}`, references[i.id]!.trim()])) },
        });
        await recordAudit(m, this.d.clock, actor, { action: 'vendor.amendment_status_changed', entityType: 'vendor', entityId: a.vendorId, details: { amendmentId: a.id, title: a.title, from: fresh.status, to: 'executed' } });
        return { ...fresh, status: 'executed' as const, closedAt: now, updatedAt: now };
      });
    } catch (err) {
      await this.d.contracts.discard(stored.storedName);
      throw err;
    }
  }

  private async addComment(m: EntityManager, actor: Actor, amendmentId: number, body: string): Promise<AmendmentComment> {
    const c = await m.save(m.create(AmendmentComment, { amendmentId, authorId: actor.id, body, createdAt: this.d.clock.now() }));
    await recordAudit(m, this.d.clock, actor, { action: 'amendment.commented', entityType: 'amendment', entityId: amendmentId, details: { commentId: c.id, excerpt: body.slice(0, 200) } });
    return c;
  }

  /** Adds a comment to the thread (also after the request is closed); audited. */
  async comment(actor: Actor, id: number, body: string): Promise<AmendmentComment> {
    return this.d.transact(async (m) => {
      const a = await m.findOne(ContractAmendment, { where: { id }, select: ['id'] });
      if (!a) throw new NotFoundError('No such amendment request.');
      const c = await this.addComment(m, actor, id, body);
      await m.update(ContractAmendment, { id }, { updatedAt: this.d.clock.now() });
      return c;
    });
  }

  /** Attaches a redline (PDF or Word) to an open request, encrypted at rest; audited. */
  async attach(actor: Actor, id: number, upload: Upload): Promise<ContractFile> {
    const a = await this.get(id);
    if (!OPEN_AMENDMENT_STATUSES.includes(a.status)) throw new ConflictError(`This amendment request is ${AMENDMENT_STATUS_LABELS[a.status]}; attachments can be added only while it is open.`);
    const stored = await this.d.contracts.storeFile(upload, 'file');
    try {
      return await this.d.transact(async (m) => {
        const f = await this.d.contracts.saveFile(m, actor, stored, { vendorId: a.vendorId, amendmentId: a.id, kind: 'redline' });
        await m.update(ContractAmendment, { id }, { updatedAt: this.d.clock.now() });
        await recordAudit(m, this.d.clock, actor, { action: 'amendment.file_uploaded', entityType: 'amendment', entityId: id, details: { fileId: f.id, fileName: f.fileName, mediaType: f.mediaType, size: f.size, sha256: f.sha256 } });
        return f;
      });
    } catch (err) {
      await this.d.contracts.discard(stored.storedName);
      throw err;
    }
  }

  /** Applies the list filters to a query over amendments aliased `a`. */
  applyFilter(qb: SelectQueryBuilder<ContractAmendment>, f: AmendmentFilter): SelectQueryBuilder<ContractAmendment> {
    const status = f.status ?? 'open';
    if (status === 'open') qb.andWhere('a.status IN (:...openStatuses)', { openStatuses: OPEN_AMENDMENT_STATUSES });
    else if (status !== 'all') qb.andWhere('a.status = :status', { status });
    if (f.ownerId === 'none') qb.andWhere('a.ownerId IS NULL');
    else if (f.ownerId !== undefined) qb.andWhere('a.ownerId = :ownerId', { ownerId: f.ownerId });
    if (f.vendorId !== undefined) qb.andWhere('a.vendorId = :vendorId', { vendorId: f.vendorId });
    if (f.overdue !== undefined) {
      const overdue = '(a.status IN (:...overdueOpen) AND a.targetDate IS NOT NULL AND a.targetDate < :today)';
      qb.andWhere(f.overdue ? overdue : `NOT ${overdue}`, { overdueOpen: OPEN_AMENDMENT_STATUSES, today: this.today() });
    }
    return qb;
  }

  /** One page of the filtered list, oldest first (the longest-running negotiations lead), and the total. */
  async list(f: AmendmentFilter, page: number, pageSize: number): Promise<{ amendments: ContractAmendment[]; total: number }> {
    const base = () => this.applyFilter(this.repo.createQueryBuilder('a'), f);
    const [amendments, total] = await Promise.all([
      base().orderBy('a.createdAt', 'ASC').addOrderBy('a.id', 'ASC').offset((page - 1) * pageSize).limit(pageSize).getMany(),
      base().getCount(),
    ]);
    return { amendments, total };
  }

  /** Legal names of the vendors of a page of amendments, in one query. */
  async vendorNames(vendorIds: number[]): Promise<Map<number, string>> {
    const wanted = [...new Set(vendorIds)];
    if (wanted.length === 0) return new Map();
    const rows = await this.d.ds.getRepository(Vendor).find({ where: { id: In(wanted) }, select: ['id', 'legalName'] });
    return new Map(rows.map((v) => [v.id, v.legalName]));
  }

  /** The default target date of a new request. */
  defaultTargetDate(): string {
    return addDays(this.today(), DEFAULT_TARGET_DAYS);
  }
}

/** "Add CL-BRN, CL-DISP to Master services agreement" (and "and 1 more contract" when several). */
function defaultTitle(items: EligibleItem[]): string {
  const clauses = [...new Set(items.map((i) => i.clause.id))];
  const contracts = [...new Map(items.map((i) => [i.contract.id, i.contract.title])).values()];
  const more = contracts.length > 1 ? ` and ${contracts.length - 1} more contract${contracts.length > 2 ? 's' : ''}` : '';
  return `Add ${clauses.join(', ')} to ${contracts[0] ?? 'the contract'}${more}`.slice(0, 300);
}
