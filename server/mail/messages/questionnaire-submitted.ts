import type { MailMessage } from '../outbox';
import { renderMail } from '../render';

/** Confirms a submission to the vendor contact, and tells the business owner it is ready for review. */
export async function questionnaireSubmittedEmail(p: {
  to: string;
  name: string;
  staff: boolean;
  vendorName: string;
  title: string;
  submittedAt: Date;
  submittedBy: string;
  staffLink: string;
  organizationName: string;
}): Promise<MailMessage> {
  const subject = p.staff ? `${p.vendorName} submitted "${p.title}"` : `Received: your answers to "${p.title}"`;
  return { kind: 'questionnaire-submitted', to: p.to, subject, ...(await renderMail('questionnaire-submitted', p)) };
}
