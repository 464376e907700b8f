import type { CsvRow } from '../csv';
import type { certificationRow } from './present';

export const CERTIFICATION_COLUMNS = ['id', 'vendor_id', 'vendor', 'title', 'template_id', 'template_version', 'purpose', 'status', 'recipient_email', 'due_date', 'requested_at', 'signed_at', 'signer', 'method', 'expires_on'] as const;

/** One certification of the list as a CSV row (the status as the list shows it, "expiring" and "expired" included). */
export function certificationCsvRow(c: ReturnType<typeof certificationRow>): CsvRow {
  return {
    id: c.id,
    vendor_id: c.vendorId,
    vendor: c.vendorName,
    title: c.title,
    template_id: c.templateId,
    template_version: c.templateVersion,
    purpose: c.purpose,
    status: c.status,
    recipient_email: c.recipientEmail,
    due_date: c.dueDate,
    requested_at: c.requestedAt.toISOString(),
    signed_at: c.signedAt?.toISOString() ?? '',
    signer: c.signerName ?? '',
    method: c.method ?? '',
    expires_on: c.expiresOn ?? '',
  };
}
