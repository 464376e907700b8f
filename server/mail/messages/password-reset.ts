import type { MailMessage } from '../outbox';
import { renderMail } from '../render';

/** A password reset link issued by an administrator. */
export async function passwordResetEmail(p: { to: string; name: string; issuedBy: string; link: string; expiresAt: Date; organizationName: string }): Promise<MailMessage> {
  return { kind: 'password-reset', to: p.to, subject: 'Set a new Oversight password', ...(await renderMail('password-reset', p)) };
}
