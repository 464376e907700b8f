import type { MailMessage } from '../outbox';
import { renderMail } from '../render';

/** The invitation a new staff user receives: who invited them, the link, and when it expires. */
export async function userInviteEmail(p: { to: string; name: string; invitedBy: string; role: string; link: string; expiresAt: Date; organizationName: string }): Promise<MailMessage> {
  return { kind: 'user-invite', to: p.to, subject: 'You have been invited to Oversight', ...(await renderMail('user-invite', p)) };
}
