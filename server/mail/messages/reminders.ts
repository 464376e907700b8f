import type { MailMessage } from '../outbox';
import { renderMail } from '../render';

/** Whole days as words for a sentence: "today", "tomorrow", "in 3 days", "2 days ago". */
export function dayWords(days: number): string {
  if (days === 0) return 'today';
  if (days === 1) return 'tomorrow';
  if (days === -1) return 'yesterday';
  return days > 0 ? `in ${days} days` : `${-days} days ago`;
}

type VendorFacing = {
  to: string;
  name: string;
  vendorName: string;
  title: string;
  dueDate: string;
  link: string;
  contactName: string;
  contactEmail: string | null;
  organizationName: string;
};

/** To the vendor contact: the questionnaire is due soon. */
export async function questionnaireDueEmail(p: VendorFacing & { daysLeft: number }): Promise<MailMessage> {
  return { kind: 'reminder-questionnaire-due', to: p.to, subject: `Reminder: "${p.title}" is due ${dayWords(p.daysLeft)} (${p.dueDate})`, ...(await renderMail('reminder-questionnaire-due', { ...p, when: dayWords(p.daysLeft) })) };
}

/** To the vendor contact: the questionnaire is overdue; the link still works for a while. */
export async function questionnaireOverdueEmail(p: VendorFacing & { daysOverdue: number; linkUntil: string }): Promise<MailMessage> {
  return { kind: 'reminder-questionnaire-overdue', to: p.to, subject: `Overdue: "${p.title}" was due on ${p.dueDate}`, ...(await renderMail('reminder-questionnaire-overdue', p)) };
}

/** To the vendor contact: the link was sent days ago and has not been opened. */
export async function questionnaireUnopenedEmail(p: VendorFacing & { sentOn: string }): Promise<MailMessage> {
  return { kind: 'reminder-questionnaire-unopened', to: p.to, subject: `Did you receive it? "${p.title}" from ${p.organizationName}`, ...(await renderMail('reminder-questionnaire-unopened', p)) };
}

/** To the vendor contact: a renewal of its certification is awaiting signature. */
export async function certificationRenewalDueEmail(p: VendorFacing & { expiresOn: string; daysLeft: number }): Promise<MailMessage> {
  return { kind: 'reminder-certification-renewal', to: p.to, subject: `Reminder: please sign "${p.title}" for ${p.vendorName}`, ...(await renderMail('reminder-certification-renewal', { ...p, when: dayWords(p.daysLeft) })) };
}

/** Any reminder to a colleague: one sentence of what is due, by when, and where to act. */
export interface StaffNotice {
  kind: string;
  subject: string;
  /** The sentences of the message, in order. */
  lines: string[];
  url: string;
  actionLabel: string;
}

/** To a colleague, one mail per reminder (users who chose immediate reminders). */
export async function staffReminderEmail(p: { to: string; name: string; notice: StaffNotice; organizationName: string; accountUrl: string }): Promise<MailMessage> {
  return { kind: p.notice.kind, to: p.to, subject: p.notice.subject, ...(await renderMail('reminder-staff', p)) };
}

/** To a colleague who chose the daily digest: the day's reminders in one mail. */
export async function reminderDigestEmail(p: { to: string; name: string; date: string; items: { summary: string; url: string | null }[]; organizationName: string; accountUrl: string }): Promise<MailMessage> {
  const n = p.items.length;
  return { kind: 'reminder-digest', to: p.to, subject: `Oversight: ${n} reminder${n === 1 ? '' : 's'} for ${p.date}`, ...(await renderMail('reminder-digest', p)) };
}
