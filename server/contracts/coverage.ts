import type { ClauseStatus } from './entities';

/** A clause's state in one contract: its review, or not reviewed yet. */
export type ContractClauseState = ClauseStatus | 'not_reviewed';

/** A clause's state for a vendor, combined over its active contracts. */
export type VendorClauseState = ContractClauseState | 'no_contract';

export const CLAUSE_STATE_LABELS: Record<VendorClauseState, string> = {
  present: 'Present',
  partial: 'Partial',
  missing: 'Missing',
  not_applicable: 'Not applicable',
  not_reviewed: 'Not reviewed',
  no_contract: 'No active contract',
};

/**
 * A vendor's state for one clause, from the states of that clause in each of its active contracts:
 * present anywhere covers the vendor (a clause in the DPA covers the MSA); not applicable only when
 * every active contract says so (those that do are otherwise left aside); then partial; then not
 * reviewed (a contract nobody has checked may still hold it); missing only when every other
 * contract was reviewed and lacks it. No active contract at all: nothing covers the vendor.
 */
export function combineClause(states: ContractClauseState[]): VendorClauseState {
  if (states.length === 0) return 'no_contract';
  if (states.includes('present')) return 'present';
  const relevant = states.filter((s) => s !== 'not_applicable');
  if (relevant.length === 0) return 'not_applicable';
  if (relevant.includes('partial')) return 'partial';
  if (relevant.includes('not_reviewed')) return 'not_reviewed';
  return 'missing';
}

/** Whether a vendor state counts as covered. */
export function isCovered(state: VendorClauseState): boolean {
  return state === 'present';
}

/**
 * The share of a vendor's applicable clauses that are covered, in whole percent rounded down (so
 * 100 means every one), leaving aside clauses its contracts show not to apply; null when none is left.
 */
export function coveragePercent(states: VendorClauseState[]): number | null {
  const counted = states.filter((s) => s !== 'not_applicable');
  if (counted.length === 0) return null;
  return Math.floor((100 * counted.filter(isCovered).length) / counted.length);
}

/** A whole percentage rounded down; null for an empty base. */
export function percentOf(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.floor((100 * part) / whole);
}
