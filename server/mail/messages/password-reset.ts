import type { MailMessage } from '../outbox';

/** A password reset link issued by an administrator. */
export function passwordResetEmail(p: { to: string; name: string; issuedBy: string; link: string; expiresAt: Date }): MailMessage {
  return {
    kind: 'password-reset',
    to: p.to,
    subject: 'Set a new Oversight password',
    text: [
      `Hello ${p.name},`,
      '',
      `${p.issuedBy} has issued a link for you to set a new Oversight password:`,
      p.link,
      '',
      `The link works once and expires on ${p.expiresAt.toUTCString()}.`,
      'Your current password keeps working until you use it. If you did not ask for this, tell your administrator.',
    ].join('\n'),
  };
}
