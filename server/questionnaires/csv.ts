import type { CsvRow } from '../csv';
import type { Questionnaire } from './entities';

export const QUESTIONNAIRE_COLUMNS = ['id', 'vendor_id', 'vendor', 'title', 'template_id', 'template_version', 'status', 'recipient_email', 'due_date', 'sent_at', 'submitted_at', 'score'] as const;

/** One questionnaire as a CSV row (the status as the list shows it, "expired" included). */
export function questionnaireCsvRow(q: Pick<Questionnaire, 'id' | 'vendorId' | 'title' | 'dueDate' | 'sentAt' | 'submittedAt' | 'recipientEmail'> & Partial<Pick<Questionnaire, 'templateId' | 'templateVersion' | 'score'>>, names: Map<number, string>, status: string): CsvRow {
  return {
    id: q.id,
    vendor_id: q.vendorId,
    vendor: names.get(q.vendorId) ?? '',
    title: q.title,
    template_id: q.templateId ?? '',
    template_version: q.templateVersion ?? '',
    status,
    recipient_email: q.recipientEmail,
    due_date: q.dueDate,
    sent_at: q.sentAt.toISOString(),
    submitted_at: q.submittedAt?.toISOString() ?? '',
    score: q.score ?? '',
  };
}
