import type { CsvRow } from '../csv';
import type { findingRow } from './present';

export const FINDING_COLUMNS = ['id', 'vendor_id', 'vendor', 'title', 'severity', 'citation', 'status', 'source', 'owner', 'remediated_by', 'due_date', 'overdue', 'risk_accepted_until', 'age_days', 'created_at'] as const;

/** One finding as a CSV row, from the list's row. */
export function findingCsvRow(f: ReturnType<typeof findingRow>): CsvRow {
  return {
    id: f.id,
    vendor_id: f.vendorId,
    vendor: f.vendorName,
    title: f.title,
    severity: f.severity,
    citation: f.citation,
    status: f.status,
    source: f.source,
    owner: f.ownerName,
    remediated_by: f.remediatedBy,
    due_date: f.dueDate ?? '',
    overdue: f.overdue ? 'yes' : 'no',
    risk_accepted_until: f.status === 'risk_accepted' ? (f.riskAcceptanceExpiresOn ?? '') : '',
    age_days: f.ageDays,
    created_at: f.createdAt.toISOString(),
  };
}
