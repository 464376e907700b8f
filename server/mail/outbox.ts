import type { EntityManager } from 'typeorm';
import type { Clock } from '../clock';
import { encryptText } from '../security/crypto';
import { OutboxMessage } from './entities';

/** An email ready to queue: what one module in mail/messages/ produces. */
export interface MailMessage {
  kind: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Unique forever: a second message with the same key is silently not queued. */
  dedupeKey?: string;
}

/**
 * Queues a message inside the caller's transaction, so it exists exactly when the change that
 * caused it does. Returns false when a message with the same dedupe key was queued before.
 */
export async function enqueueMail(manager: EntityManager, clock: Clock, mailKey: Buffer, msg: MailMessage): Promise<boolean> {
  if (msg.dedupeKey) {
    const existing = await manager.count(OutboxMessage, { where: { dedupeKey: msg.dedupeKey } });
    if (existing > 0) return false;
  }
  const now = clock.now();
  await manager.insert(OutboxMessage, {
    dedupeKey: msg.dedupeKey ?? null,
    kind: msg.kind,
    toAddress: msg.to,
    subject: msg.subject,
    bodyEncrypted: encryptText(mailKey, msg.text),
    htmlEncrypted: msg.html ? encryptText(mailKey, msg.html) : null,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    sentAt: null,
    lastError: null,
    createdAt: now,
  });
  return true;
}
