import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { type DataSource, In, LessThanOrEqual } from 'typeorm';
import type { Clock } from '../clock';
import { MINUTE } from '../clock';
import type { Logger } from '../logger';
import { recordAudit, type Actor } from '../audit/service';
import type { Transact } from '../db/data-source';
import { ConflictError, NotFoundError } from '../errors';
import { decryptText } from '../security/crypto';
import { OutboxMessage } from './entities';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  messageId: string;
}

/** Sends one message: by SMTP, or for the local outbox as an .eml file. */
export interface MailTransport {
  readonly kind: 'smtp' | 'local';
  send(msg: OutgoingMail): Promise<void>;
  /** Lets go of any open connection (at shutdown). */
  close(): void;
}

/**
 * The transport for the configuration: SMTP when SMTP_URL is set. Without it, each message is
 * written as an .eml file under DATA_DIR/mail (readable only by the portal's user) and stays
 * readable by admins on the Outbox page.
 */
export function createTransport(smtpUrl: string | undefined, dataDir: string): MailTransport {
  if (!smtpUrl) {
    const dir = path.join(dataDir, 'mail');
    return {
      kind: 'local',
      send: async (m) => {
        await fs.mkdir(dir, { recursive: true, mode: 0o700 });
        const raw = await new MailComposer({ from: m.from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId }).compile().build();
        const name = m.messageId.replace(/[^A-Za-z0-9@._-]/g, '');
        await fs.writeFile(path.join(dir, `${name}.eml`), raw, { mode: 0o600 });
      },
      close: () => undefined,
    };
  }
  // One connection, kept open between messages and closed after a minute without any: a new
  // connection for every message (greeting, TLS, AUTH) cost more than the message, and a sweep
  // sends thousands. Messages go one at a time, so one connection is all a run uses.
  const transporter = nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections: 1, idleTimeout: MINUTE });
  return {
    kind: 'smtp',
    send: async (m) => {
      await transporter.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text, html: m.html, messageId: m.messageId });
    },
    close: () => transporter.close(),
  };
}

/** Waits between attempts, doubling from 1 minute up to 1 hour: 10 attempts in all (about 4 hours), then the message is marked failed with the last SMTP error and an admin can resend it. */
const BACKOFF_MS = [1, 2, 4, 8, 16, 32, 60, 60, 60].map((m) => m * MINUTE);
/** A message left "sending" this long (the process died mid-send) is tried again. */
const STALE_SENDING_MS = 10 * MINUTE;

export interface MailDeliveryDeps {
  ds: DataSource;
  /** For the few changes made here in a transaction (an admin's resend and its audit entry). */
  transact: Transact;
  clock: Clock;
  logger: Logger;
  transport: MailTransport;
  mailKey: Buffer;
  from: string;
  messageIdDomain: string;
}

/**
 * Delivers queued mail. Each message is claimed with a conditional update before it is sent, so
 * two instances never send the same one.
 */
export class MailDelivery {
  private running: Promise<number> | null = null;
  private again = false;

  constructor(private readonly deps: MailDeliveryDeps) {}

  /** 'local' when there is no SMTP server and mail stays in the outbox. */
  get transportKind(): MailTransport['kind'] {
    return this.deps.transport.kind;
  }

  /** Starts a delivery run soon (after the current one, if any); for use right after a commit. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    void this.deliverDue().catch((err: unknown) => this.deps.logger.error({ err }, 'mail delivery failed'));
  }

  /** Closes the transport's connection; for shutdown, once no delivery run is expected. */
  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    this.deps.transport.close();
  }

  /** Queues a failed message again (an admin's decision after fixing the cause); audited. */
  async resend(actor: Actor, id: number): Promise<void> {
    const { transact, clock } = this.deps;
    await transact(async (m) => {
      const msg = Number.isNaN(id) ? null : await m.findOne(OutboxMessage, { where: { id }, select: ['id', 'status', 'attempts', 'kind', 'toAddress'] });
      if (!msg) throw new NotFoundError('No such message.');
      if (msg.status !== 'failed') throw new ConflictError('Only a message whose delivery failed can be resent.');
      await m.update(OutboxMessage, { id, status: 'failed' }, { status: 'pending', attempts: 0, nextAttemptAt: clock.now() });
      await recordAudit(m, clock, actor, { action: 'mail.resent', entityType: 'outbox', entityId: id, details: { kind: msg.kind, to: msg.toAddress, previousAttempts: msg.attempts } });
    });
    this.kick();
  }

  /** Sends every message that is due; returns how many were sent. */
  async deliverDue(batch = 50): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop(batch);
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  /**
   * Batch after batch until none is due: a batch that came back full may have left more behind
   * (a sweep queues thousands), and a kick during the run asks for another look. Messages that
   * fail are rescheduled later and those claimed by another instance are no longer pending, so
   * neither is read again and the loop ends.
   */
  private async loop(batch: number): Promise<number> {
    let sent = 0;
    let full: boolean;
    do {
      this.again = false;
      const result = await this.deliverBatch(batch);
      sent += result.sent;
      full = result.read === batch;
    } while (full || this.again);
    return sent;
  }

  /** Sends up to `batch` due messages; returns how many were read and how many of them were sent. */
  private async deliverBatch(batch: number): Promise<{ read: number; sent: number }> {
    const { ds, clock } = this.deps;
    const repo = ds.getRepository(OutboxMessage);
    const now = clock.now();
    await repo
      .createQueryBuilder()
      .update()
      .set({ status: 'pending' })
      .where('status = :s AND nextAttemptAt <= :stale', { s: 'sending', stale: new Date(now.getTime() - STALE_SENDING_MS).toISOString() })
      .execute();
    const due = await repo.find({
      where: { status: In(['pending']), nextAttemptAt: LessThanOrEqual(now) },
      order: { nextAttemptAt: 'ASC', id: 'ASC' },
      take: batch,
    });
    let sent = 0;
    for (const msg of due) {
      const claimed = await repo
        .createQueryBuilder()
        .update()
        .set({ status: 'sending', attempts: msg.attempts + 1, nextAttemptAt: now })
        .where('id = :id AND status = :s AND attempts = :a', { id: msg.id, s: 'pending', a: msg.attempts })
        .execute();
      if (claimed.affected !== 1) continue;
      if (await this.sendOne(msg)) sent += 1;
    }
    return { read: due.length, sent };
  }

  private async sendOne(msg: OutboxMessage): Promise<boolean> {
    const { ds, clock, transport, logger } = this.deps;
    const repo = ds.getRepository(OutboxMessage);
    try {
      await transport.send({
        from: this.deps.from,
        to: msg.toAddress,
        subject: msg.subject,
        text: decryptText(this.deps.mailKey, msg.bodyEncrypted),
        html: msg.htmlEncrypted ? decryptText(this.deps.mailKey, msg.htmlEncrypted) : undefined,
        messageId: `<outbox-${msg.id}@${this.deps.messageIdDomain}>`,
      });
      await repo.update({ id: msg.id }, { status: 'sent', sentAt: clock.now(), lastError: null });
      logger.info({ outboxId: msg.id, kind: msg.kind, transport: transport.kind }, 'mail delivered');
      return true;
    } catch (err) {
      const attempt = msg.attempts + 1;
      const wait = BACKOFF_MS[attempt - 1];
      const error = err instanceof Error ? err.message : String(err);
      await repo.update(
        { id: msg.id },
        wait === undefined
          ? { status: 'failed', lastError: error }
          : { status: 'pending', lastError: error, nextAttemptAt: new Date(clock.now().getTime() + wait) },
      );
      logger.warn({ outboxId: msg.id, kind: msg.kind, attempt, error }, 'mail delivery attempt failed');
      return false;
    }
  }
}
