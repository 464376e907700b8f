import type { MailMessage } from '../outbox';
import { renderMail } from '../render';

/**
 * What a vendor did with a certification request: a receipt for the signer, or a note for the
 * person who asked for it (signed, uploaded for confirmation, or declined).
 */
export async function certificationResponseEmail(p: {
  to: string;
  name: string;
  staff: boolean;
  event: 'signed' | 'uploaded' | 'declined';
  vendorName: string;
  title: string;
  at: Date;
  signerName: string;
  textSha256: string;
  reason: string | null;
  staffLink: string;
  organizationName: string;
}): Promise<MailMessage> {
  const verb = { signed: 'signed', uploaded: 'uploaded a signed copy of', declined: 'declined' }[p.event];
  const subject = p.staff ? `${p.vendorName} ${verb} "${p.title}"` : p.event === 'declined' ? `Declined: "${p.title}"` : `Received: "${p.title}"`;
  return { kind: 'certification-response', to: p.to, subject, ...(await renderMail('certification-response', p)) };
}
