import type { MailMessage } from '../outbox';

/** The invitation a new staff user receives: who invited them, the link, and when it expires. */
export function userInviteEmail(p: { to: string; name: string; invitedBy: string; role: string; link: string; expiresAt: Date }): MailMessage {
  return {
    kind: 'user-invite',
    to: p.to,
    subject: 'You have been invited to Oversight',
    text: [
      `Hello ${p.name},`,
      '',
      `${p.invitedBy} has given you an Oversight account with the role "${p.role}".`,
      'Oversight is where we keep track of the service providers that handle personal information for us.',
      '',
      'Choose your password here to start:',
      p.link,
      '',
      `The link works once and expires on ${p.expiresAt.toUTCString()}.`,
      'If you did not expect this, you can ignore this message; nothing happens until the link is used.',
    ].join('\n'),
  };
}
