import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from '../db/columns';

export const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/**
 * A message written in the same transaction as the change that causes it, then delivered with
 * retries. `dedupeKey`, when set, is unique: the same reminder can never be queued twice.
 */
@Entity('mail_outbox')
@Index('IDX_outbox_due', ['status', 'nextAttemptAt'])
export class OutboxMessage {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_outbox_dedupe', { unique: true })
  @Column({ type: 'varchar', length: 200, nullable: true })
  dedupeKey!: string | null;

  @Column({ type: 'varchar', length: 40 })
  kind!: string;

  @Column({ type: 'varchar', length: 254 })
  toAddress!: string;

  @Column({ type: 'varchar', length: 300 })
  subject!: string;

  /** The text body, encrypted (it may carry a one-time link); see security/crypto. */
  @Column({ type: 'text' })
  bodyEncrypted!: string;

  /** The HTML body, encrypted like the text one; null for text-only messages. */
  @Column({ type: 'text', nullable: true })
  htmlEncrypted!: string | null;

  @Column({ type: 'varchar', length: 12 })
  status!: OutboxStatus;

  @Column({ type: 'integer' })
  attempts!: number;

  @TimestampColumn()
  nextAttemptAt!: Date;

  @TimestampColumn({ nullable: true })
  sentAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  lastError!: string | null;

  @TimestampColumn()
  createdAt!: Date;
}
