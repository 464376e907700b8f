import type { MailMessage } from '../outbox';
import { renderMail } from '../render';

/** Asks a vendor contact to sign a written certification through a personal link (also after a refused upload). */
export async function certificationRequestedEmail(p: {
  to: string;
  name: string;
  vendorName: string;
  title: string;
  purpose: 'annual' | 'disposal';
  dueDate: string;
  link: string;
  senderName: string;
  senderEmail: string | null;
  organizationName: string;
  /** Set when an uploaded PDF was not accepted and the vendor is asked again. */
  rejectionReason?: string | null;
}): Promise<MailMessage> {
  const subject = p.rejectionReason ? `Please sign again: ${p.title}` : `${p.organizationName} asks ${p.vendorName} to sign: ${p.title}`;
  return { kind: 'certification-requested', to: p.to, subject, ...(await renderMail('certification-requested', { rejectionReason: null, ...p })) };
}
