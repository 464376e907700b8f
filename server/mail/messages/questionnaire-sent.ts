import type { MailMessage } from '../outbox';
import { renderMail } from '../render';

/** The invitation a vendor's contact receives: who asks, why, by when, and the link. */
export async function questionnaireSentEmail(p: {
  to: string;
  name: string;
  vendorName: string;
  title: string;
  dueDate: string;
  link: string;
  questions: number;
  minutes: number | null;
  senderName: string;
  senderEmail: string | null;
  organizationName: string;
}): Promise<MailMessage> {
  return { kind: 'questionnaire-sent', to: p.to, subject: `${p.organizationName} asks ${p.vendorName} to answer: ${p.title}`, ...(await renderMail('questionnaire-sent', p)) };
}
