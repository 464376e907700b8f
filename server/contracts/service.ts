import type { Writable } from 'node:stream';
import { type DataSource, type EntityManager, In } from 'typeorm';
import { User } from '../accounts/entities';
import { type Actor, diffFields, recordAudit } from '../audit/service';
import type { Clock } from '../clock';
import type { Transact } from '../db/data-source';
import { rawInt, rawQuery } from '../db/raw';
import { columnsOf } from '../db/rows';
import { SharedFigures, type WriteWatch } from '../db/write-watch';
import { NotFoundError, ValidationError } from '../errors';
import { ACCEPTED_TYPES, detectType, type EvidenceStore, sanitizeFileName } from '../questionnaires/evidence';
import { Vendor, VendorSubprocessor } from '../vendors/entities';
import type { Tier, VendorStatus } from '../vendors/risk';
import { type Clause, type ClauseCatalogue, applicabilitySql, applicabilityText, type VendorFacts } from './catalogue';
import { combineClause, type ContractClauseState, coveragePercent, percentOf, type VendorClauseState } from './coverage';
import { AmendmentItem, ContractAmendment, Contract, ContractClause, ContractFile, type ContractFileKind, type ContractStatus, type ContractType, OPEN_AMENDMENT_STATUSES } from './entities';
import { LEGACY_SIGNED_BY, NOTICE_LEAD_DAYS } from './labels';
import type { ClauseReviewInput, ContractInput } from './schema';
import { addDays } from '../dates';

export { addDays };

export interface ContractServiceDeps {
  ds: DataSource;
  transact: Transact;
  clock: Clock;
  catalogue: ClauseCatalogue;
  /** Encrypted storage for contract documents (DATA_DIR/contracts). */
  files: EvidenceStore;
  /** Tells when the tables behind the portfolio shares were written, so computed shares can be reused. */
  writes: WriteWatch;
}

/** The tables the portfolio shares are read from. */
export const SHARES_TABLES = ['vendors', 'vendor_subprocessors', 'contracts', 'contract_clauses'] as const;
/** The longest computed shares are reused; only changes by another process or instance wait for it. */
export const SHARES_MAX_AGE_MS = 30_000;

export type ClauseShare = { clause: Clause; covered: number; of: number; percent: number | null };

/** A document as uploaded. */
export interface Upload {
  originalName: string;
  buffer: Buffer;
}

/** Contract documents are PDF or Word, judged by their content. */
export const DOCUMENT_TYPES: string[] = [ACCEPTED_TYPES.pdf, ACCEPTED_TYPES.docx];
export const DOCUMENT_DESCRIPTION = 'a PDF or Word (.docx) document';

/** The fields of a contract a person edits; the rest is derived or set by the workflow. */
export const EDITABLE_FIELDS = ['title', 'type', 'status', 'effectiveOn', 'expiresOn', 'signedOn', 'autoRenews', 'noticeDays', 'amendsId', 'notes'] as const;

export interface ContractFilter {
  vendorId?: number;
  type?: ContractType;
  status?: ContractStatus;
  /** Active contracts whose notice deadline is within NOTICE_LEAD_DAYS (or passed). */
  noticeDue?: boolean;
}

export interface MatrixFilter {
  tier?: Tier;
  status?: VendorStatus;
  scope?: 'in' | 'out';
  /** A clause id: vendors it applies to whose active contracts do not cover it (anything but present or not applicable). */
  missing?: string;
}

/** A vendor as a row of the coverage matrix shows it (and what applicability is decided from). */
const MATRIX_VENDOR_COLUMNS = ['id', 'legalName', 'status', 'tier', 'inScope', 'piElements'] as const satisfies readonly (keyof Vendor)[];
export type MatrixVendor = Pick<Vendor, (typeof MATRIX_VENDOR_COLUMNS)[number]>;

/** One clause on a contract's checklist. */
export interface ChecklistRow {
  clause: Clause;
  state: ContractClauseState;
  row: ContractClause | null;
}

/** A vendor's coverage: each applicable clause combined over its active contracts. */
export interface VendorCoverage {
  vendor: Vendor;
  facts: VendorFacts;
  activeContracts: Contract[];
  otherContracts: Contract[];
  clauses: { clause: Clause; state: VendorClauseState; byContract: Map<number, { state: ContractClauseState; row: ContractClause | null }> }[];
  notApplicable: { clause: Clause; why: string }[];
  percent: number | null;
}


/** The last day to give notice: the expiry date less the notice period. */
export function noticeDeadlineOf(c: Pick<Contract, 'expiresOn' | 'noticeDays'>): string | null {
  return c.expiresOn ? addDays(c.expiresOn, -(c.noticeDays ?? 0)) : null;
}

/** Whether a contract was entered into no later than 2010-03-01 (by its signing date, else its effective date). */
export function isLegacy(c: Pick<Contract, 'signedOn' | 'effectiveOn'>): boolean {
  const entered = c.signedOn ?? c.effectiveOn;
  return entered !== null && entered <= LEGACY_SIGNED_BY;
}

/**
 * The rules of one clause review: present needs the section, partial a note on what is missing,
 * not applicable the reason. Problems are keyed "<field>__<clauseId>" as the checklist form names them.
 */
export function checkReview(clauseId: string, r: ClauseReviewInput, errors: Record<string, string>): void {
  if (r.status === 'present' && !r.reference) errors[`reference__${clauseId}`] = `${clauseId}: give the section where the contract says it, such as §12.3.`;
  if (r.status === 'partial' && !r.note) errors[`note__${clauseId}`] = `${clauseId}: say what is missing from the clause.`;
  if (r.status === 'not_applicable' && !r.note) errors[`note__${clauseId}`] = `${clauseId}: give the reason it does not apply to this contract.`;
}

/** The "present" test of a clause for the vendor row "v", over its active contracts. */
function presentSql(param: string): string {
  // Driven from the vendor's contracts (vendorId, status index), then the (contractId, clauseId) index.
  return `EXISTS (SELECT 1 FROM "contracts" "k" WHERE "k"."vendorId" = "v"."id" AND "k"."status" = 'active' AND EXISTS (SELECT 1 FROM "contract_clauses" "cc" WHERE "cc"."contractId" = "k"."id" AND "cc"."clauseId" = :${param} AND "cc"."status" = 'present'))`;
}

/** Every active contract of the vendor row "v" (and there is one) marks the clause not applicable. */
function allNotApplicableSql(param: string): string {
  return `(EXISTS (SELECT 1 FROM "contracts" "k" WHERE "k"."vendorId" = "v"."id" AND "k"."status" = 'active') AND NOT EXISTS (SELECT 1 FROM "contracts" "k" WHERE "k"."vendorId" = "v"."id" AND "k"."status" = 'active' AND NOT EXISTS (SELECT 1 FROM "contract_clauses" "cc" WHERE "cc"."contractId" = "k"."id" AND "cc"."clauseId" = :${param} AND "cc"."status" = 'not_applicable')))`;
}

/** The vendor and its number of subprocessors, when the caller has read them already (the vendor page). */
export interface KnownVendor {
  vendor: Vendor;
  subprocessorCount: number;
}

/** Contracts, their documents and clause reviews, and the coverage of vendors and of the portfolio. */
export class ContractService {
  private readonly sharedShares: SharedFigures<ClauseShare[]>;

  constructor(private readonly d: ContractServiceDeps) {
    this.sharedShares = new SharedFigures(d.writes, SHARES_TABLES, d.clock, SHARES_MAX_AGE_MS);
  }

  private get repo() {
    return this.d.ds.getRepository(Contract);
  }

  /** The clause catalogue in force. */
  get catalogue(): ClauseCatalogue {
    return this.d.catalogue;
  }

  /** Today's date (UTC) as YYYY-MM-DD. */
  today(): string {
    return this.d.clock.now().toISOString().slice(0, 10);
  }

  /** One contract; 404 when there is none with this id. */
  async get(id: number): Promise<Contract> {
    const c = Number.isSafeInteger(id) ? await this.repo.findOne({ where: { id } }) : null;
    if (!c) throw new NotFoundError('No such contract.');
    return c;
  }

  /** A vendor's contracts, active first, then by effective date. */
  async forVendor(vendorId: number): Promise<Contract[]> {
    const rows = await this.repo.find({ where: { vendorId }, order: { id: 'ASC' } });
    const rank: Record<ContractStatus, number> = { active: 0, draft: 1, expired: 2, terminated: 3 };
    return rows.sort((a, b) => rank[a.status] - rank[b.status] || (a.effectiveOn ?? '').localeCompare(b.effectiveOn ?? '') || a.id - b.id);
  }

  /** What applicability is decided from, for several vendors: two queries. */
  async facts(vendorIds: number[]): Promise<Map<number, VendorFacts>> {
    const ids = [...new Set(vendorIds)];
    if (ids.length === 0) return new Map();
    const [vendors, counts] = await Promise.all([
      this.d.ds.getRepository(Vendor).find({ where: { id: In(ids) }, select: ['id', 'piElements', 'inScope'] }),
      this.d.ds
        .getRepository(VendorSubprocessor)
        .createQueryBuilder('s')
        .select('s.vendorId', 'vendorId')
        .addSelect('COUNT(*)', 'n')
        .where('s.vendorId IN (:...ids)', { ids })
        .groupBy('s.vendorId')
        .getRawMany<{ vendorId: number; n: string | number }>(),
    ]);
    const n = new Map(counts.map((r) => [Number(r.vendorId), Number(r.n)]));
    return new Map(vendors.map((v) => [v.id, { piElements: v.piElements, inScope: v.inScope, subprocessorCount: n.get(v.id) ?? 0 }]));
  }

  /** The rules that join a contract's fields; each problem names its field. */
  private checkFields(c: Pick<Contract, 'status' | 'effectiveOn' | 'expiresOn' | 'signedOn' | 'autoRenews' | 'noticeDays'>): void {
    const fields: Record<string, string> = {};
    if (c.status !== 'draft' && !c.effectiveOn) fields.effectiveOn = 'An effective date is required unless the contract is a draft.';
    if (c.expiresOn && c.effectiveOn && c.expiresOn <= c.effectiveOn) fields.expiresOn = `Expiry date must be after the effective date (${c.effectiveOn}).`;
    if (c.autoRenews && (c.noticeDays === null || c.noticeDays === undefined)) fields.noticeDays = 'A notice period is required when the contract renews automatically.';
    if (c.signedOn && c.signedOn > this.today()) fields.signedOn = 'Signed on cannot be in the future.';
    if (Object.keys(fields).length) throw new ValidationError(fields);
  }

  /** The contract amended must be another contract of the same vendor, and amending must not go round in a circle. */
  private async checkAmends(m: EntityManager, vendorId: number, selfId: number | null, amendsId: number | null | undefined): Promise<void> {
    if (amendsId === null || amendsId === undefined) return;
    const problem = (msg: string) => new ValidationError({ amendsId: msg });
    if (amendsId === selfId) throw problem('A contract cannot amend itself.');
    let cursor: number | null = amendsId;
    for (let hops = 0; cursor !== null && hops < 100; hops++) {
      const c: Contract | null = await m.findOne(Contract, { where: { id: cursor }, select: ['id', 'vendorId', 'amendsId'] });
      if (!c || c.vendorId !== vendorId) throw problem('The contract it amends must be another contract of the same vendor.');
      if (c.amendsId === selfId && selfId !== null) throw problem('That contract already amends this one (directly or through others).');
      cursor = c.amendsId;
    }
  }

  /** Checks an upload is a PDF or Word document by its content; returns its media type. */
  documentType(upload: Upload, field: string): string {
    const type = detectType(upload.buffer, upload.originalName);
    if (!type || !DOCUMENT_TYPES.includes(type)) {
      throw new ValidationError({ [field]: `“${sanitizeFileName(upload.originalName)}” was not accepted: upload ${DOCUMENT_DESCRIPTION} (the file's content decides, not its name${upload.buffer.length === 0 ? '; this file is empty' : ''}).` });
    }
    return type;
  }

  /** Encrypts an upload to disk before the transaction that records it; `discard` undoes it if that fails. */
  async storeFile(upload: Upload, field: string): Promise<{ fileName: string; mediaType: string; size: number; storedName: string; sha256: string }> {
    const mediaType = this.documentType(upload, field);
    const stored = await this.d.files.put(upload.buffer);
    return { fileName: sanitizeFileName(upload.originalName), mediaType, size: upload.buffer.length, ...stored };
  }

  /** Removes a stored file whose record was never written. */
  async discard(storedName: string): Promise<void> {
    await this.d.files.remove(storedName);
  }

  /** Records a stored file in the caller's transaction. */
  async saveFile(m: EntityManager, actor: Actor, stored: Awaited<ReturnType<ContractService['storeFile']>>, owner: { vendorId: number; contractId?: number | null; amendmentId?: number | null; kind: ContractFileKind }): Promise<ContractFile> {
    return m.save(
      m.create(ContractFile, {
        vendorId: owner.vendorId,
        contractId: owner.contractId ?? null,
        amendmentId: owner.amendmentId ?? null,
        kind: owner.kind,
        fileName: stored.fileName,
        storedName: stored.storedName,
        mediaType: stored.mediaType,
        size: stored.size,
        sha256: stored.sha256,
        uploadedById: actor.id,
        uploadedAt: this.d.clock.now(),
      }),
    );
  }

  /**
   * Records a contract for a vendor, with its signed document when one is given (encrypted at rest);
   * audited on the contract and on the vendor's timeline.
   */
  async create(actor: Actor, vendorId: number, input: ContractInput, document?: Upload): Promise<Contract> {
    const record = {
      title: input.title,
      type: input.type,
      status: input.status,
      effectiveOn: input.effectiveOn ?? null,
      expiresOn: input.expiresOn ?? null,
      signedOn: input.signedOn ?? null,
      autoRenews: input.autoRenews,
      noticeDays: input.noticeDays ?? null,
      amendsId: input.amendsId ?? null,
      notes: input.notes ?? null,
    };
    this.checkFields(record);
    const stored = document ? await this.storeFile(document, 'document') : null;
    try {
      return await this.d.transact(async (m) => {
        const vendor = await m.findOne(Vendor, { where: { id: vendorId }, select: ['id'] });
        if (!vendor) throw new NotFoundError('No such vendor.');
        await this.checkAmends(m, vendorId, null, record.amendsId);
        const now = this.d.clock.now();
        const c = await m.save(m.create(Contract, { ...record, vendorId, noticeDeadline: noticeDeadlineOf(record), createdById: actor.id, createdAt: now, updatedAt: now }));
        const file = stored ? await this.saveFile(m, actor, stored, { vendorId, contractId: c.id, kind: 'signed' }) : null;
        await recordAudit(m, this.d.clock, actor, {
          action: 'contract.created',
          entityType: 'contract',
          entityId: c.id,
          details: { vendorId, title: c.title, type: c.type, status: c.status, effectiveOn: c.effectiveOn, expiresOn: c.expiresOn, ...(file ? { documentFileId: file.id, fileName: file.fileName, sha256: file.sha256 } : {}) },
        });
        await recordAudit(m, this.d.clock, actor, { action: 'vendor.contract_added', entityType: 'vendor', entityId: vendorId, details: { contractId: c.id, title: c.title, type: c.type, status: c.status } });
        return c;
      });
    } catch (err) {
      if (stored) await this.discard(stored.storedName);
      throw err;
    }
  }

  /** Applies changed fields; the merged contract must still keep the rules. Audited with before and after. */
  async update(actor: Actor, id: number, changes: Partial<ContractInput>): Promise<Contract> {
    return this.d.transact(async (m) => {
      const c = await m.findOne(Contract, { where: { id } });
      if (!c) throw new NotFoundError('No such contract.');
      const merged: Contract = { ...c };
      for (const k of EDITABLE_FIELDS) {
        const v = changes[k];
        if (v !== undefined) Object.assign(merged, { [k]: v });
      }
      this.checkFields(merged);
      if (changes.amendsId !== undefined && changes.amendsId !== c.amendsId) await this.checkAmends(m, c.vendorId, c.id, changes.amendsId);
      merged.noticeDeadline = noticeDeadlineOf(merged);
      const diff = diffFields(c, merged, [...EDITABLE_FIELDS, 'noticeDeadline']);
      if (Object.keys(diff).length === 0) return c;
      merged.updatedAt = this.d.clock.now();
      await m.save(Contract, merged);
      await recordAudit(m, this.d.clock, actor, { action: 'contract.updated', entityType: 'contract', entityId: c.id, changes: diff });
      if (diff.status) await recordAudit(m, this.d.clock, actor, { action: 'vendor.contract_status_changed', entityType: 'vendor', entityId: c.vendorId, details: { contractId: c.id, title: merged.title, from: c.status, to: merged.status } });
      return merged;
    });
  }

  /** Replaces a contract's signed document (the previous one is kept for the record); audited. */
  async uploadDocument(actor: Actor, contractId: number, upload: Upload): Promise<ContractFile> {
    const c = await this.get(contractId);
    const stored = await this.storeFile(upload, 'document');
    try {
      return await this.d.transact(async (m) => {
        const file = await this.saveFile(m, actor, stored, { vendorId: c.vendorId, contractId: c.id, kind: 'signed' });
        await m.update(Contract, { id: c.id }, { updatedAt: this.d.clock.now() });
        await recordAudit(m, this.d.clock, actor, { action: 'contract.document_uploaded', entityType: 'contract', entityId: c.id, details: { fileId: file.id, fileName: file.fileName, mediaType: file.mediaType, size: file.size, sha256: file.sha256 } });
        return file;
      });
    } catch (err) {
      await this.discard(stored.storedName);
      throw err;
    }
  }

  /** The current signed document of each contract (the newest upload), in one query. */
  async documents(contractIds: number[]): Promise<Map<number, ContractFile>> {
    if (contractIds.length === 0) return new Map();
    const rows = await this.d.ds.getRepository(ContractFile).find({ where: { contractId: In([...new Set(contractIds)]), kind: 'signed' }, order: { id: 'ASC' } });
    return new Map(rows.map((f) => [f.contractId!, f]));
  }

  /** Every signed document a contract has had, newest first. */
  async documentHistory(contractId: number): Promise<ContractFile[]> {
    return this.d.ds.getRepository(ContractFile).find({ where: { contractId, kind: 'signed' }, order: { id: 'DESC' } });
  }

  /** One stored file of a contract; 404 otherwise. */
  async contractFile(contractId: number, fileId: number): Promise<ContractFile> {
    const f = await this.d.ds.getRepository(ContractFile).findOne({ where: { id: fileId, contractId } });
    if (!f) throw new NotFoundError('No such document for this contract.');
    return f;
  }

  /** Streams a stored file, decrypted, into `out`. */
  async pipeFile(f: ContractFile, out: Writable): Promise<void> {
    await this.d.files.pipeTo(f.storedName, out);
  }

  /** Audits a download of a stored file in its own transaction. */
  async recordDownload(actor: Actor, f: ContractFile): Promise<void> {
    await this.d.transact((m) =>
      recordAudit(m, this.d.clock, actor, {
        action: f.amendmentId ? 'amendment.file_downloaded' : 'contract.document_downloaded',
        entityType: f.amendmentId ? 'amendment' : 'contract',
        entityId: (f.amendmentId ?? f.contractId)!,
        details: { fileId: f.id, fileName: f.fileName, kind: f.kind },
      }),
    );
  }

  /** The clause reviews of several contracts, in one query. */
  async clauseRows(contractIds: number[]): Promise<Map<number, Map<string, ContractClause>>> {
    const out = new Map<number, Map<string, ContractClause>>();
    if (contractIds.length === 0) return out;
    const rows = await this.d.ds.getRepository(ContractClause).find({ where: { contractId: In([...new Set(contractIds)]) } });
    for (const r of rows) {
      if (!out.has(r.contractId)) out.set(r.contractId, new Map());
      out.get(r.contractId)!.set(r.clauseId, r);
    }
    return out;
  }

  /**
   * A contract's checklist: every catalogue clause that applies to its vendor with its review (not
   * reviewed when none); the clauses that do not apply, with why; reviews of clauses no longer in the catalogue.
   */
  async checklist(c: Contract): Promise<{ rows: ChecklistRow[]; notApplicable: { clause: Clause; why: string }[]; retired: ContractClause[] }> {
    const [facts, rows] = await Promise.all([this.facts([c.vendorId]), this.clauseRows([c.id])]);
    const f = facts.get(c.vendorId)!;
    const mine = rows.get(c.id) ?? new Map<string, ContractClause>();
    const applicable = this.d.catalogue.applicable(f);
    const ids = new Set(this.d.catalogue.list().map((x) => x.id));
    return {
      rows: applicable.map((clause) => {
        const row = mine.get(clause.id) ?? null;
        return { clause, row, state: row?.status ?? 'not_reviewed' };
      }),
      notApplicable: this.d.catalogue
        .list()
        .filter((x) => !applicable.includes(x))
        .map((clause) => ({ clause, why: applicabilityText(clause) })),
      retired: [...mine.values()].filter((r) => !ids.has(r.clauseId)),
    };
  }

  /**
   * Records the review of some clauses of a contract in one transaction: only those that changed are
   * written and audited (before and after). "not_reviewed" removes a review. Returns how many changed.
   */
  async reviewClauses(actor: Actor, contractId: number, entries: { clauseId: string; review: ClauseReviewInput }[]): Promise<number> {
    const errors: Record<string, string> = {};
    for (const e of entries) {
      if (!this.d.catalogue.get(e.clauseId)) errors[`status__${e.clauseId}`] = `${e.clauseId} is not a clause of the catalogue.`;
      else checkReview(e.clauseId, e.review, errors);
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
    return this.d.transact(async (m) => {
      const c = await m.findOne(Contract, { where: { id: contractId }, select: ['id', 'vendorId'] });
      if (!c) throw new NotFoundError('No such contract.');
      const existing = new Map((await m.find(ContractClause, { where: { contractId, clauseId: In(entries.map((e) => e.clauseId)) } })).map((r) => [r.clauseId, r]));
      let changed = 0;
      for (const { clauseId, review } of entries) {
        const before = existing.get(clauseId) ?? null;
        const cleared = review.status === 'not_reviewed';
        const next = { status: review.status, reference: cleared ? null : (review.reference ?? null), note: cleared ? null : (review.note ?? null) };
        const was = { status: before?.status ?? 'not_reviewed', reference: before?.reference ?? null, note: before?.note ?? null };
        const diff = diffFields(was, next, ['status', 'reference', 'note']);
        if (Object.keys(diff).length === 0) continue;
        const now = this.d.clock.now();
        if (review.status === 'not_reviewed') {
          await m.delete(ContractClause, { id: before!.id });
        } else if (before) {
          await m.update(ContractClause, { id: before.id }, { status: review.status, reference: next.reference, note: next.note, amendmentId: null, reviewedById: actor.id, reviewedAt: now });
        } else {
          await m.insert(ContractClause, { contractId, clauseId, status: review.status, reference: next.reference, note: next.note, amendmentId: null, reviewedById: actor.id, reviewedAt: now });
        }
        await recordAudit(m, this.d.clock, actor, { action: 'contract.clause_reviewed', entityType: 'contract', entityId: contractId, changes: diff, details: { clauseId } });
        changed += 1;
      }
      if (changed) await m.update(Contract, { id: contractId }, { updatedAt: this.d.clock.now() });
      return changed;
    });
  }

  /** Coverage of several vendors at once (a page of the matrix): four queries whatever their number. */
  async vendorStates(
    vendorIds: number[],
    /** The vendors' facts when the caller has them (matrix() returns them with its page). */
    known?: Map<number, VendorFacts>,
  ): Promise<Map<number, { facts: VendorFacts; activeContracts: number; states: Map<string, VendorClauseState> }>> {
    const out = new Map<number, { facts: VendorFacts; activeContracts: number; states: Map<string, VendorClauseState> }>();
    const ids = [...new Set(vendorIds)];
    if (ids.length === 0) return out;
    // Active contracts with their clause reviews in one pass over the covering indexes: (vendorId,
    // status) of contracts, (contractId, clauseId, status) of clause rows.
    const [facts, raw] = await Promise.all([
      known && ids.every((id) => known.has(id)) ? known : this.facts(ids),
      rawQuery<{ vendorId: number | string; contractId: number | string; clauseId: string | null; status: ContractClauseState | null }>(
        this.d.ds,
        'SELECT "k"."vendorId" AS "vendorId", "k"."id" AS "contractId", "cc"."clauseId" AS "clauseId", "cc"."status" AS "status" FROM "contracts" "k" ' +
          'LEFT JOIN "contract_clauses" "cc" ON "cc"."contractId" = "k"."id" WHERE "k"."vendorId" IN (:...ids) AND "k"."status" = :active',
        { ids, active: 'active' },
      ),
    ]);
    const contractsOf = new Map<number, Set<number>>();
    const reviewed = new Map<string, ContractClauseState>();
    for (const r of raw) {
      const vendorId = Number(r.vendorId);
      const contractId = Number(r.contractId);
      if (!contractsOf.has(vendorId)) contractsOf.set(vendorId, new Set());
      contractsOf.get(vendorId)!.add(contractId);
      if (r.clauseId !== null && r.status !== null) reviewed.set(`${contractId}\u0000${r.clauseId}`, r.status);
    }
    for (const id of vendorIds) {
      const f = facts.get(id);
      if (!f) continue;
      const contracts = [...(contractsOf.get(id) ?? [])];
      const states = new Map<string, VendorClauseState>();
      for (const clause of this.d.catalogue.applicable(f)) {
        states.set(clause.id, combineClause(contracts.map((c) => reviewed.get(`${c}\u0000${clause.id}`) ?? 'not_reviewed')));
      }
      out.set(id, { facts: f, activeContracts: contracts.length, states });
    }
    return out;
  }

  /** One vendor's coverage: its active contracts combined clause by clause, with each contract's own review. */
  async vendorCoverage(vendorId: number, known?: KnownVendor): Promise<VendorCoverage> {
    const vendor = known?.vendor ?? (await this.d.ds.getRepository(Vendor).findOne({ where: { id: vendorId } }));
    if (!vendor || vendor.id !== vendorId) throw new NotFoundError('No such vendor.');
    const [contracts, f] = await Promise.all([
      this.forVendor(vendorId),
      known ? { piElements: vendor.piElements, inScope: vendor.inScope, subprocessorCount: known.subprocessorCount } : this.facts([vendorId]).then((m) => m.get(vendorId)!),
    ]);
    const activeContracts = contracts.filter((c) => c.status === 'active');
    const rows = await this.clauseRows(activeContracts.map((c) => c.id));
    const applicable = this.d.catalogue.applicable(f);
    const clauses = applicable.map((clause) => {
      const byContract = new Map<number, { state: ContractClauseState; row: ContractClause | null }>();
      for (const c of activeContracts) {
        const row = rows.get(c.id)?.get(clause.id) ?? null;
        byContract.set(c.id, { state: row?.status ?? 'not_reviewed', row });
      }
      return { clause, state: combineClause([...byContract.values()].map((x) => x.state)), byContract };
    });
    return {
      vendor,
      facts: f,
      activeContracts,
      otherContracts: contracts.filter((c) => c.status !== 'active'),
      clauses,
      notApplicable: this.d.catalogue
        .list()
        .filter((x) => !applicable.includes(x))
        .map((clause) => ({ clause, why: applicabilityText(clause) })),
      percent: coveragePercent(clauses.map((x) => x.state)),
    };
  }

  /** What the vendor page shows: contracts by status, coverage, gaps and open amendments. */
  async vendorSummary(vendorId: number, known?: KnownVendor) {
    const { contracts, clauses, openAmendments } = await this.summaryCoverage(vendorId, known);
    const counts: Record<ContractStatus, number> = { draft: 0, active: 0, expired: 0, terminated: 0 };
    for (const status of contracts) counts[status] += 1;
    return {
      total: contracts.length,
      counts,
      applicable: clauses.length,
      percent: coveragePercent(clauses.map((x) => x.state)),
      gaps: clauses.filter((x) => x.state !== 'present' && x.state !== 'not_applicable').map((x) => ({ id: x.clause.id, title: x.clause.title, state: x.state })),
      openAmendments,
    };
  }

  /**
   * What the summary needs: each contract's status, the combined state of each applicable clause
   * (as vendorCoverage gives them) and the number of open amendment requests. With the vendor known,
   * one plain query: the vendor's contracts with the clause reviews of the active ones (the columns
   * of the covering indexes only), and the open amendments counted beside them.
   */
  private async summaryCoverage(
    vendorId: number,
    known?: KnownVendor,
  ): Promise<{ contracts: ContractStatus[]; clauses: { clause: Clause; state: VendorClauseState }[]; openAmendments: number }> {
    if (!known) {
      const [cov, openAmendments] = await Promise.all([
        this.vendorCoverage(vendorId),
        this.d.ds.getRepository(ContractAmendment).count({ where: { vendorId, status: In(OPEN_AMENDMENT_STATUSES) } }),
      ]);
      return { contracts: [...cov.activeContracts, ...cov.otherContracts].map((c) => c.status), clauses: cov.clauses, openAmendments };
    }
    if (known.vendor.id !== vendorId) throw new NotFoundError('No such vendor.');
    // Driven by a single row, so that a vendor without contracts still gets its amendment count.
    const raw = await rawQuery<{ openAmendments: number | string; contractId: number | string | null; contractStatus: ContractStatus | null; clauseId: string | null; status: ContractClauseState | null }>(
      this.d.ds,
      'SELECT (SELECT COUNT(*) FROM "contract_amendments" "a" WHERE "a"."vendorId" = :vendorId AND "a"."status" IN (:...open)) AS "openAmendments", ' +
        '"k"."id" AS "contractId", "k"."status" AS "contractStatus", "cc"."clauseId" AS "clauseId", "cc"."status" AS "status" ' +
        'FROM (SELECT 1 AS "one") "o" LEFT JOIN "contracts" "k" ON "k"."vendorId" = :vendorId ' +
        'LEFT JOIN "contract_clauses" "cc" ON "cc"."contractId" = "k"."id" AND "k"."status" = :active',
      { vendorId, open: [...OPEN_AMENDMENT_STATUSES], active: 'active' },
    );
    const statusOf = new Map<number, ContractStatus>();
    const reviewed = new Map<string, ContractClauseState>();
    for (const r of raw) {
      if (r.contractId === null || r.contractStatus === null) continue;
      const id = rawInt(r.contractId);
      statusOf.set(id, r.contractStatus);
      if (r.clauseId !== null && r.status !== null) reviewed.set(`${id}\u0000${r.clauseId}`, r.status);
    }
    const active = [...statusOf].filter(([, s]) => s === 'active').map(([id]) => id);
    const facts: VendorFacts = { piElements: known.vendor.piElements, inScope: known.vendor.inScope, subprocessorCount: known.subprocessorCount };
    const clauses = this.d.catalogue.applicable(facts).map((clause) => ({ clause, state: combineClause(active.map((id) => reviewed.get(`${id}\u0000${clause.id}`) ?? 'not_reviewed')) }));
    return { contracts: [...statusOf.values()], clauses, openAmendments: rawInt(raw[0]?.openAmendments ?? 0) };
  }

  /** The matrix filter as SQL conditions over vendors "v"; a missing-clause filter names a clause of the catalogue. */
  private matrixConditions(f: MatrixFilter): { conditions: string[]; params: Record<string, unknown> } {
    const conditions: string[] = [];
    const params: Record<string, unknown> = {};
    if (f.tier) {
      conditions.push('"v"."tier" = :tier');
      params.tier = f.tier;
    }
    if (f.status) {
      conditions.push('"v"."status" = :status');
      params.status = f.status;
    }
    if (f.scope) {
      conditions.push('"v"."inScope" = :inScope');
      params.inScope = f.scope === 'in';
    }
    if (f.missing) {
      const clause = this.d.catalogue.get(f.missing);
      if (!clause) throw new ValidationError({ missing: `missing must be a clause of the catalogue (${this.d.catalogue.list().map((c) => c.id).join(', ')}).` });
      const applies = applicabilitySql(clause, 'mc');
      conditions.push(`${applies.sql} AND NOT ${presentSql('mclause')} AND NOT ${allNotApplicableSql('mclause')}`);
      Object.assign(params, applies.params, { mclause: clause.id });
    }
    return { conditions, params };
  }

  /**
   * One page of the portfolio matrix (vendors by name) and the total, in two plain queries: the
   * page's shown columns (read through the entity's columns), and COUNT(*), which SQLite answers from its
   * smallest index without reading rows when there is no filter.
   */
  async matrix(f: MatrixFilter, page: number, pageSize: number): Promise<{ vendors: MatrixVendor[]; total: number; facts: Map<number, VendorFacts> }> {
    const { conditions, params } = this.matrixConditions(f);
    const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
    // What a row shows of a vendor, and what applicability is decided from (with the number of
    // subprocessors, counted by index per vendor of the page), so vendorStates need not read them again.
    const columns = columnsOf(this.d.ds, Vendor, MATRIX_VENDOR_COLUMNS);
    const pageSql =
      `SELECT ${columns.list('v')}, (SELECT COUNT(*) FROM "vendor_subprocessors" "s" WHERE "s"."vendorId" = "v"."id") AS "subprocessorCount" ` +
      `FROM "vendors" "v"${where} ORDER BY "v"."legalNameKey" ASC, "v"."id" ASC LIMIT :limit OFFSET :offset`;
    const [raw, [count]] = await Promise.all([
      rawQuery<Record<string, unknown>>(this.d.ds, pageSql, { ...params, limit: pageSize, offset: (page - 1) * pageSize }),
      rawQuery<{ n: number | string }>(this.d.ds, `SELECT COUNT(*) AS "n" FROM "vendors" "v"${where}`, params),
    ]);
    const facts = new Map<number, VendorFacts>();
    const vendors = raw.map((r): MatrixVendor => {
      const v = columns.read(r, 'v');
      facts.set(v.id, { piElements: v.piElements, inScope: v.inScope, subprocessorCount: rawInt(r.subprocessorCount ?? 0) });
      return v;
    });
    return { vendors, total: rawInt(count?.n ?? 0), facts };
  }

  /**
   * For each clause, the share of in-scope active vendors it applies to whose active contracts cover
   * it (vendors whose contracts all mark it not applicable are left aside). Computed by one query
   * and shared until a table behind it is written through this process, the catalogue changes, or
   * 30 seconds pass (see SharedFigures): the matrix and the dashboard both show it.
   */
  async shares(): Promise<ClauseShare[]> {
    const clauses = this.d.catalogue.list();
    if (clauses.length === 0) return [];
    return this.sharedShares.get(this.d.catalogue.status.inForceHash ?? '', () => this.computeShares(clauses));
  }

  /**
   * One grouped pass, driven by the in-scope active vendors: per vendor, its number of active
   * contracts and, per clause, how many of them have it present and how many mark it not applicable
   * (a contract has at most one row per clause), so "all not applicable" is "as many as its active
   * contracts"; then the totals per clause over those vendors.
   */
  private async computeShares(clauses: Clause[]): Promise<ClauseShare[]> {
    const params: Record<string, unknown> = { active: 'active', inScope: true, present: 'present', na: 'not_applicable' };
    const perVendor: string[] = ['"v"."id" AS "id"', '"v"."piElements" AS "piElements"', '"v"."inScope" AS "inScope"', 'COUNT(DISTINCT "k"."id") AS "n"'];
    const totals: string[] = [];
    clauses.forEach((clause, i) => {
      params[`c${i}`] = clause.id;
      perVendor.push(`SUM(CASE WHEN "cc"."clauseId" = :c${i} AND "cc"."status" = :present THEN 1 ELSE 0 END) AS "p${i}"`);
      perVendor.push(`SUM(CASE WHEN "cc"."clauseId" = :c${i} AND "cc"."status" = :na THEN 1 ELSE 0 END) AS "na${i}"`);
      const applies = applicabilitySql(clause, `a${i}`);
      Object.assign(params, applies.params);
      totals.push(`SUM(CASE WHEN ${applies.sql} AND NOT ("v"."n" > 0 AND "v"."na${i}" = "v"."n") THEN 1 ELSE 0 END) AS "of${i}"`);
      totals.push(`SUM(CASE WHEN ${applies.sql} AND "v"."p${i}" > 0 THEN 1 ELSE 0 END) AS "covered${i}"`);
    });
    // The outer query reads the grouped rows as "v", so the applicability conditions apply unchanged.
    const sql =
      `SELECT ${totals.join(', ')} FROM (SELECT ${perVendor.join(', ')} FROM "vendors" "v" ` +
      `LEFT JOIN "contracts" "k" ON "k"."vendorId" = "v"."id" AND "k"."status" = :active ` +
      `LEFT JOIN "contract_clauses" "cc" ON "cc"."contractId" = "k"."id" ` +
      `WHERE "v"."status" = :active AND "v"."inScope" = :inScope GROUP BY "v"."id", "v"."piElements", "v"."inScope") "v"`;
    const [query, values] = this.d.ds.driver.escapeQueryWithParameters(sql, params, {});
    const [raw = {}] = (await this.d.ds.query(query, values)) as Record<string, string | number | null>[];
    return clauses.map((clause, i) => {
      const of = Number(raw[`of${i}`] ?? 0);
      const covered = Number(raw[`covered${i}`] ?? 0);
      return { clause, covered, of, percent: percentOf(covered, of) };
    });
  }

  /** One page of the contracts list (by vendor name, then title) and the total. */
  async list(f: ContractFilter, page: number, pageSize: number): Promise<{ contracts: Contract[]; total: number }> {
    const base = () => {
      const qb = this.repo.createQueryBuilder('k').innerJoin(Vendor, 'v', 'v.id = k.vendorId');
      if (f.vendorId !== undefined) qb.andWhere('k.vendorId = :vendorId', { vendorId: f.vendorId });
      if (f.type) qb.andWhere('k.type = :type', { type: f.type });
      if (f.status) qb.andWhere('k.status = :status', { status: f.status });
      if (f.noticeDue) qb.andWhere("k.status = 'active' AND k.noticeDeadline IS NOT NULL AND k.noticeDeadline <= :noticeBy", { noticeBy: addDays(this.today(), NOTICE_LEAD_DAYS) });
      return qb;
    };
    const [contracts, total] = await Promise.all([
      base().orderBy('v.legalNameKey', 'ASC').addOrderBy('k.title', 'ASC').addOrderBy('k.id', 'ASC').offset((page - 1) * pageSize).limit(pageSize).getMany(),
      base().getCount(),
    ]);
    return { contracts, total };
  }

  /** Per contract of a page: how many of the clauses that apply to its vendor it has present, and its gaps. */
  async contractCounts(contracts: Contract[]): Promise<Map<number, { present: number; applicable: number; gaps: number; notReviewed: number }>> {
    const [facts, rows] = await Promise.all([this.facts(contracts.map((c) => c.vendorId)), this.clauseRows(contracts.map((c) => c.id))]);
    const out = new Map<number, { present: number; applicable: number; gaps: number; notReviewed: number }>();
    for (const c of contracts) {
      const f = facts.get(c.vendorId);
      const applicable = f ? this.d.catalogue.applicable(f) : [];
      const states = applicable.map((x) => rows.get(c.id)?.get(x.id)?.status ?? 'not_reviewed');
      out.set(c.id, {
        present: states.filter((s) => s === 'present').length,
        applicable: states.filter((s) => s !== 'not_applicable').length,
        gaps: states.filter((s) => s === 'missing' || s === 'partial').length,
        notReviewed: states.filter((s) => s === 'not_reviewed').length,
      });
    }
    return out;
  }

  /** Open amendments touching each of these contracts, in one query: contract id -> amendment ids. */
  async openAmendmentsFor(contractIds: number[]): Promise<Map<number, { amendmentId: number; clauseId: string }[]>> {
    const out = new Map<number, { amendmentId: number; clauseId: string }[]>();
    if (contractIds.length === 0) return out;
    const rows = await this.d.ds
      .getRepository(AmendmentItem)
      .createQueryBuilder('i')
      .innerJoin(ContractAmendment, 'a', 'a.id = i.amendmentId')
      .where('i.contractId IN (:...ids)', { ids: [...new Set(contractIds)] })
      .andWhere('a.status IN (:...open)', { open: OPEN_AMENDMENT_STATUSES })
      .getMany();
    for (const r of rows) out.set(r.contractId, [...(out.get(r.contractId) ?? []), { amendmentId: r.amendmentId, clauseId: r.clauseId }]);
    return out;
  }

  /** The contracts that amend this one. */
  async amendedBy(contractId: number): Promise<Contract[]> {
    return this.repo.find({ where: { amendsId: contractId }, select: ['id', 'title', 'status'], order: { id: 'ASC' } });
  }

  /** Titles of several contracts, in one query. */
  async titles(ids: number[]): Promise<Map<number, Contract>> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return new Map();
    const rows = await this.repo.find({ where: { id: In(wanted) }, select: ['id', 'title', 'type', 'status', 'vendorId'] });
    return new Map(rows.map((c) => [c.id, c]));
  }

  /** Names of users, in one query. */
  async userNames(ids: (number | null)[]): Promise<Map<number, string>> {
    const wanted = [...new Set(ids.filter((i): i is number => i !== null))];
    if (wanted.length === 0) return new Map();
    const rows = await this.d.ds.getRepository(User).find({ where: { id: In(wanted) }, select: ['id', 'name'] });
    return new Map(rows.map((u) => [u.id, u.name]));
  }
}
