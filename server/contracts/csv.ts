import { stringify } from 'csv-stringify/sync';
import { defuseCells } from '../csv';
import type { Clause, VendorFacts } from './catalogue';
import { coveragePercent, type VendorClauseState } from './coverage';
import type { MatrixVendor } from './service';


/** The columns of the coverage matrix export: the vendor, then one per clause of the catalogue. */
export function matrixColumns(clauses: Clause[]): string[] {
  return ['vendor_id', 'legal_name', 'status', 'tier', 'in_scope', 'active_contracts', 'coverage_percent', ...clauses.map((c) => c.id)];
}

/**
 * Lines of the coverage matrix (the header when asked). Each clause cell holds the vendor's state:
 * present, partial, missing, not_applicable, not_reviewed or no_contract; empty when the clause does
 * not apply to the vendor.
 */
export function matrixCsv(
  clauses: Clause[],
  vendors: MatrixVendor[],
  states: Map<number, { facts: VendorFacts; activeContracts: number; states: Map<string, VendorClauseState> }>,
  header: boolean,
): string {
  return stringify(
    vendors.map((v) => {
      const s = states.get(v.id);
      const row: Record<string, string | number> = {
        vendor_id: v.id,
        legal_name: v.legalName,
        status: v.status,
        tier: v.tier,
        in_scope: v.inScope ? 'yes' : 'no',
        active_contracts: s?.activeContracts ?? 0,
        coverage_percent: s ? (coveragePercent([...s.states.values()]) ?? '') : '',
      };
      for (const c of clauses) row[c.id] = s?.states.get(c.id) ?? '';
      return defuseCells(row);
    }),
    { header, columns: matrixColumns(clauses) },
  );
}

export const AMENDMENT_COLUMNS = ['id', 'vendor_id', 'vendor', 'title', 'status', 'clauses', 'contracts', 'owner', 'target_date', 'overdue', 'age_days', 'opened_at', 'sent_at', 'negotiating_at'];

/** Lines of the amendments export (the header when asked). */
export function amendmentsCsv(
  rows: { id: number; vendorId: number; vendorName: string; title: string; status: string; clauses: string[]; contractCount: number; ownerName: string; targetDate: string | null; overdue: boolean; ageDays: number; createdAt: Date; sentAt: Date | null; negotiatingAt: Date | null }[],
  header: boolean,
): string {
  return stringify(
    rows.map((a) =>
      defuseCells({
        id: a.id,
        vendor_id: a.vendorId,
        vendor: a.vendorName,
        title: a.title,
        status: a.status,
        clauses: a.clauses.join(';'),
        contracts: a.contractCount,
        owner: a.ownerName,
        target_date: a.targetDate ?? '',
        overdue: a.overdue ? 'yes' : 'no',
        age_days: a.ageDays,
        opened_at: a.createdAt.toISOString(),
        sent_at: a.sentAt?.toISOString() ?? '',
        negotiating_at: a.negotiatingAt?.toISOString() ?? '',
      }),
    ),
    { header, columns: AMENDMENT_COLUMNS },
  );
}

export const CONTRACT_COLUMNS = ['id', 'vendor_id', 'vendor', 'title', 'type', 'status', 'signed_on', 'effective_on', 'expires_on', 'auto_renews', 'notice_days', 'notice_deadline', 'notice', 'legacy', 'clauses_present', 'clauses_applicable', 'clause_gaps', 'clauses_not_reviewed', 'document', 'document_sha256'];

/** One contract of the list as a CSV row, with its clause counts. */
export function contractCsvRow(
  c: { id: number; vendorId: number; vendorName: string; title: string; type: string; status: string; signedOn: string | null; effectiveOn: string | null; expiresOn: string | null; autoRenews: boolean; noticeDays: number | null; noticeDeadline: string | null; notice: string; legacy: boolean },
  counts: { present: number; applicable: number; gaps: number; notReviewed: number } | undefined,
  document: { fileName: string; sha256: string } | undefined,
): Record<string, string | number> {
  return {
    id: c.id,
    vendor_id: c.vendorId,
    vendor: c.vendorName,
    title: c.title,
    type: c.type,
    status: c.status,
    signed_on: c.signedOn ?? '',
    effective_on: c.effectiveOn ?? '',
    expires_on: c.expiresOn ?? '',
    auto_renews: c.autoRenews ? 'yes' : 'no',
    notice_days: c.noticeDays ?? '',
    notice_deadline: c.noticeDeadline ?? '',
    notice: c.notice,
    legacy: c.legacy ? 'yes' : 'no',
    clauses_present: counts?.present ?? '',
    clauses_applicable: counts?.applicable ?? '',
    clause_gaps: counts?.gaps ?? '',
    clauses_not_reviewed: counts?.notReviewed ?? '',
    document: document?.fileName ?? '',
    document_sha256: document?.sha256 ?? '',
  };
}
