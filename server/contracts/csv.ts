import { stringify } from 'csv-stringify/sync';
import type { Vendor } from '../vendors/entities';
import type { Clause, VendorFacts } from './catalogue';
import { coveragePercent, type VendorClauseState } from './coverage';

/** A cell a spreadsheet would run as a formula gets a leading quote. */
function safe(row: Record<string, string | number>): Record<string, string | number> {
  for (const [k, v] of Object.entries(row)) if (typeof v === 'string' && /^[=+\-@\t\r]/.test(v)) row[k] = `'${v}`;
  return row;
}

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
  vendors: Vendor[],
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
      return safe(row);
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
      safe({
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
