import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from '../db/columns';

/** How a reminder reached its recipient: its own email, a line in the daily digest, or an action that mails by itself (a questionnaire or certification request). */
export type ReminderDelivery = 'email' | 'digest' | 'action';

/**
 * One reminder decided by a sweep. The key (rule, subject, occurrence) is unique, so no sweep,
 * restart or second instance ever sends the same reminder twice; the row and its email are written
 * in one transaction.
 */
@Entity('reminders')
export class Reminder {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_reminders_key', { unique: true })
  @Column({ type: 'varchar', length: 200 })
  key!: string;

  @Column({ type: 'varchar', length: 40 })
  rule!: string;

  @Column({ type: 'integer', nullable: true })
  vendorId!: number | null;

  @Column({ type: 'varchar', length: 24 })
  subjectType!: string;

  @Column({ type: 'integer' })
  subjectId!: number;

  @Column({ type: 'varchar', length: 40 })
  occurrence!: string;

  @Column({ type: 'varchar', length: 254 })
  recipientEmail!: string;

  @Column({ type: 'integer', nullable: true })
  recipientUserId!: number | null;

  /** One line for logs, digests and the vendor's reminder history. */
  @Column({ type: 'varchar', length: 500 })
  summary!: string;

  /** Where the recipient acts: a staff page or the vendor's link (never stored for vendor links). */
  @Column({ type: 'varchar', length: 500, nullable: true })
  url!: string | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  dueOn!: string | null;

  @Column({ type: 'varchar', length: 8 })
  delivery!: ReminderDelivery;

  @Column({ type: 'integer', nullable: true })
  outboxId!: number | null;

  @Column({ type: 'integer', nullable: true })
  digestOutboxId!: number | null;

  /** The day (in REMINDER_TIMEZONE) of the sweep that decided it. */
  @Column({ type: 'varchar', length: 10 })
  sweepDate!: string;

  @TimestampColumn()
  createdAt!: Date;
}

/** A named lease: the instance holding it until expiresAt runs the work it guards. */
@Entity('leases')
export class Lease {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'varchar', length: 120 })
  holder!: string;

  @TimestampColumn()
  expiresAt!: Date;

  @TimestampColumn()
  acquiredAt!: Date;
}
