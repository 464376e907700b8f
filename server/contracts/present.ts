import { daysBetween } from '../findings/service';
import { escapeHtml } from '../html';
import { STATUS_LABELS as VENDOR_STATUS_LABELS, TIER_LABELS } from '../vendors/risk';
import { BASIS_LABELS, type Clause, applicabilityText, type VendorFacts } from './catalogue';
import { CLAUSE_STATE_LABELS, type VendorClauseState } from './coverage';
import type { AmendmentComment, AmendmentItem, Contract, ContractAmendment, ContractClause, ContractFile } from './entities';
import { isAmendmentOverdue } from './amendments';
import { AMENDMENT_STATUS_LABELS, CONTRACT_STATUS_LABELS, LEGACY_NOTE, NOTICE_LEAD_DAYS, TYPE_LABELS, TYPE_SHORT } from './labels';
import { addDays, isLegacy, type MatrixVendor, type VendorCoverage } from './service';

/** A clause as pages show it. */
export function clauseView(c: Clause) {
  return { id: c.id, title: c.title, mustSay: c.mustSay, citations: c.citations, basis: c.basis, basisLabel: BASIS_LABELS[c.basis], severity: c.severity, appliesWhen: applicabilityText(c) };
}

/**
 * The rows of a page of the coverage matrix: each vendor with its coverage share and one cell per
 * clause of the catalogue. The cells (clauses × vendors, the bulk of the page) come as markup, each
 * distinct cell built once per page, escaped as the view would escape them.
 */
export function matrixRows(
  vendors: MatrixVendor[],
  states: Map<number, { facts: VendorFacts; activeContracts: number; states: Map<string, VendorClauseState> }>,
  clauses: Clause[],
) {
  const cellMarkup = new Map<string, string>();
  const cell = (clauseId: string, state: VendorClauseState | 'does_not_apply') => {
    const key = `${clauseId}\u0000${state}`;
    let html = cellMarkup.get(key);
    if (html === undefined) {
      const label = state === 'does_not_apply' ? 'Does not apply' : CLAUSE_STATE_LABELS[state];
      html = `<td><span class="tag cs-${escapeHtml(state)}" title="${escapeHtml(clauseId)}">${escapeHtml(label)}</span></td>`;
      cellMarkup.set(key, html);
    }
    return html;
  };
  return vendors.map((v) => {
    const s = states.get(v.id);
    let counted = 0;
    let present = 0;
    let cells = '';
    for (const c of clauses) {
      const state = s?.states.get(c.id);
      cells += cell(c.id, state ?? 'does_not_apply');
      if (state && state !== 'not_applicable') {
        counted += 1;
        if (state === 'present') present += 1;
      }
    }
    return {
      id: v.id,
      legalName: v.legalName,
      tier: v.tier,
      tierLabel: TIER_LABELS[v.tier],
      status: v.status,
      statusLabel: VENDOR_STATUS_LABELS[v.status],
      inScope: v.inScope,
      activeContracts: s?.activeContracts ?? 0,
      percent: counted ? Math.floor((100 * present) / counted) : null,
      /** Markup of the row's clause cells (escaped). */
      cellsHtml: cells,
    };
  });
}

/** Where a contract stands against its notice deadline, today. */
export function noticeState(c: Pick<Contract, 'status' | 'expiresOn' | 'noticeDeadline'>, today: string): 'none' | 'later' | 'due' | 'passed' | 'expired' {
  if (c.status !== 'active' || !c.expiresOn || !c.noticeDeadline) return 'none';
  if (c.expiresOn < today) return 'expired';
  if (c.noticeDeadline < today) return 'passed';
  return c.noticeDeadline <= addDays(today, NOTICE_LEAD_DAYS) ? 'due' : 'later';
}

export const NOTICE_LABELS = { none: '', later: '', due: 'Notice due soon', passed: 'Notice deadline passed', expired: 'Past its expiry date' } as const;

/** A contract as lists and its page show it. */
export function contractRow(c: Contract, vendorNames: Map<number, string>, documents: Map<number, ContractFile>, today: string) {
  const notice = noticeState(c, today);
  const doc = documents.get(c.id);
  return {
    id: c.id,
    vendorId: c.vendorId,
    vendorName: vendorNames.get(c.vendorId) ?? '',
    title: c.title,
    type: c.type,
    typeLabel: TYPE_LABELS[c.type],
    typeShort: TYPE_SHORT[c.type],
    status: c.status,
    statusLabel: CONTRACT_STATUS_LABELS[c.status],
    effectiveOn: c.effectiveOn,
    expiresOn: c.expiresOn,
    signedOn: c.signedOn,
    autoRenews: c.autoRenews,
    noticeDays: c.noticeDays,
    noticeDeadline: c.noticeDeadline,
    notice,
    noticeLabel: NOTICE_LABELS[notice],
    legacy: isLegacy(c),
    legacyNote: isLegacy(c) ? LEGACY_NOTE : null,
    amendsId: c.amendsId,
    notes: c.notes,
    document: doc ? { id: doc.id, fileName: doc.fileName, size: doc.size, uploadedAt: doc.uploadedAt } : null,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** A stored file's metadata, for the API. */
export function fileJson(f: ContractFile) {
  return { id: f.id, kind: f.kind, fileName: f.fileName, mediaType: f.mediaType, size: f.size, sha256: f.sha256, uploadedById: f.uploadedById, uploadedAt: f.uploadedAt.toISOString() };
}

/** The API's representation of a contract; with its clause reviews on single-contract responses. */
export function contractJson(c: Contract, document: ContractFile | undefined, clauses?: { clause: Clause; state: string; row: ContractClause | null }[]) {
  return {
    id: c.id,
    vendorId: c.vendorId,
    title: c.title,
    type: c.type,
    status: c.status,
    effectiveOn: c.effectiveOn,
    expiresOn: c.expiresOn,
    signedOn: c.signedOn,
    autoRenews: c.autoRenews,
    noticeDays: c.noticeDays,
    noticeDeadline: c.noticeDeadline,
    amendsId: c.amendsId,
    notes: c.notes,
    legacy: isLegacy(c),
    legacyNote: isLegacy(c) ? LEGACY_NOTE : null,
    document: document ? fileJson(document) : null,
    createdById: c.createdById,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    ...(clauses
      ? {
          clauses: clauses.map((x) => ({
            clauseId: x.clause.id,
            title: x.clause.title,
            status: x.state,
            reference: x.row?.reference ?? null,
            note: x.row?.note ?? null,
            amendmentId: x.row?.amendmentId ?? null,
            reviewedById: x.row?.reviewedById ?? null,
            reviewedAt: x.row?.reviewedAt.toISOString() ?? null,
          })),
        }
      : {}),
  };
}

/** The API's representation of a vendor's coverage. */
export function coverageJson(cov: VendorCoverage) {
  return {
    vendorId: cov.vendor.id,
    legalName: cov.vendor.legalName,
    coveragePercent: cov.percent,
    activeContracts: cov.activeContracts.map((c) => ({ id: c.id, title: c.title, type: c.type })),
    clauses: cov.clauses.map((x) => ({
      clauseId: x.clause.id,
      title: x.clause.title,
      basis: x.clause.basis,
      citations: x.clause.citations,
      status: x.state,
      contracts: [...x.byContract.entries()].map(([contractId, e]) => ({ contractId, status: e.state, reference: e.row?.reference ?? null, note: e.row?.note ?? null })),
    })),
    notApplicable: cov.notApplicable.map((x) => ({ clauseId: x.clause.id, appliesWhen: x.why })),
  };
}

/** An amendment as list rows show it. */
export function amendmentRow(a: ContractAmendment, items: AmendmentItem[], vendorNames: Map<number, string>, userNames: Map<number, string>, now: Date) {
  const today = now.toISOString().slice(0, 10);
  return {
    id: a.id,
    vendorId: a.vendorId,
    vendorName: vendorNames.get(a.vendorId) ?? '',
    title: a.title,
    status: a.status,
    statusLabel: AMENDMENT_STATUS_LABELS[a.status],
    clauses: [...new Set(items.map((i) => i.clauseId))],
    contractCount: new Set(items.map((i) => i.contractId)).size,
    ownerId: a.ownerId,
    ownerName: a.ownerId ? (userNames.get(a.ownerId) ?? '') : '',
    targetDate: a.targetDate,
    overdue: isAmendmentOverdue(a, today),
    ageDays: daysBetween(a.createdAt, a.closedAt ?? now),
    createdAt: a.createdAt,
    sentAt: a.sentAt,
    negotiatingAt: a.negotiatingAt,
    closedAt: a.closedAt,
    closingReason: a.closingReason,
    findingId: a.findingId,
  };
}

/** The API's representation of an amendment request. */
export function amendmentJson(a: ContractAmendment, items: AmendmentItem[], now: Date, extra: { comments?: AmendmentComment[]; files?: ContractFile[] } = {}) {
  const today = now.toISOString().slice(0, 10);
  return {
    id: a.id,
    vendorId: a.vendorId,
    title: a.title,
    status: a.status,
    ownerId: a.ownerId,
    targetDate: a.targetDate,
    overdue: isAmendmentOverdue(a, today),
    ageDays: daysBetween(a.createdAt, a.closedAt ?? now),
    items: items.map((i) => ({ id: i.id, contractId: i.contractId, clauseId: i.clauseId, statusAtOpening: i.statusAtOpening, reference: i.reference })),
    sentAt: a.sentAt?.toISOString() ?? null,
    negotiatingAt: a.negotiatingAt?.toISOString() ?? null,
    closedAt: a.closedAt?.toISOString() ?? null,
    closingReason: a.closingReason,
    findingId: a.findingId,
    createdById: a.createdById,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    ...(extra.comments ? { comments: extra.comments.map((c) => ({ id: c.id, authorId: c.authorId, body: c.body, createdAt: c.createdAt.toISOString() })) } : {}),
    ...(extra.files ? { files: extra.files.map(fileJson) } : {}),
  };
}
