import type { MailMessage } from '../outbox';
import { renderMail } from '../render';

/** Asks the vendor contact to clarify some answers through the same link. */
export async function clarificationRequestedEmail(p: {
  to: string;
  name: string;
  vendorName: string;
  title: string;
  questions: string[];
  dueDate: string;
  link: string;
  reviewerName: string;
  reviewerEmail: string | null;
  organizationName: string;
}): Promise<MailMessage> {
  return { kind: 'clarification-requested', to: p.to, subject: `Please clarify ${p.questions.length} answer${p.questions.length === 1 ? '' : 's'}: ${p.title}`, ...(await renderMail('clarification-requested', p)) };
}
