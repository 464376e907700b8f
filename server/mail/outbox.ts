import type { EntityManager } from 'typeorm';
import type { Clock } from '../clock';
import { insertRows } from '../db/rows';
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

/** The outbox columns enqueueMails writes, in its INSERT's order. */
const OUTBOX_COLUMNS = ['dedupeKey', 'kind', 'toAddress', 'subject', 'bodyEncrypted', 'htmlEncrypted', 'status', 'attempts', 'nextAttemptAt', 'sentAt', 'lastError', 'createdAt'] as const;
/** Messages per statement: 12 parameters each stays well under SQLite's and PostgreSQL's limits on bound parameters. */
const OUTBOX_CHUNK = 500;

/**
 * enqueueMail() for many messages that each carry a dedupe key, inside the caller's transaction:
 * one read for the keys queued before, one multi-row INSERT and one read of the new ids per 500
 * messages, instead of three statements per message (the reminder sweep queues thousands).
 * Returns each message's outbox id, in order: the earlier message's where its key was queued before.
 */
export async function enqueueMails(manager: EntityManager, clock: Clock, mailKey: Buffer, msgs: readonly (MailMessage & { dedupeKey: string })[]): Promise<number[]> {
  const ids = new Map<string, number>();
  const driver = manager.connection.driver;
  const readIds = async (keys: string[]) => {
    const [sql, params] = driver.escapeQueryWithParameters('SELECT "id", "dedupeKey" FROM "mail_outbox" WHERE "dedupeKey" IN (:...keys)', { keys }, {});
    for (const row of (await manager.query(sql, params)) as { id: number | string; dedupeKey: string }[]) ids.set(row.dedupeKey, Number(row.id));
  };
  for (let i = 0; i < msgs.length; i += OUTBOX_CHUNK) {
    const chunk = msgs.slice(i, i + OUTBOX_CHUNK);
    await readIds(chunk.map((m) => m.dedupeKey));
    const now = clock.now().toISOString();
    const rows: unknown[][] = [];
    const queued = new Set<string>();
    for (const msg of chunk) {
      if (ids.has(msg.dedupeKey) || queued.has(msg.dedupeKey)) continue;
      queued.add(msg.dedupeKey);
      rows.push([msg.dedupeKey, msg.kind, msg.to, msg.subject, encryptText(mailKey, msg.text), msg.html ? encryptText(mailKey, msg.html) : null, 'pending', 0, now, null, null, now]);
    }
    if (!rows.length) continue;
    await insertRows(manager, 'mail_outbox', OUTBOX_COLUMNS, rows);
    await readIds([...queued]);
  }
  return msgs.map((m) => {
    const id = ids.get(m.dedupeKey);
    if (id === undefined) throw new Error(`outbox message ${m.dedupeKey} was not queued`);
    return id;
  });
}
