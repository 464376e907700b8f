import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from '../db/columns';

export const ROLES = ['admin', 'procurement', 'legal', 'reviewer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export const REMINDER_DELIVERIES = ['immediate', 'digest'] as const;
export type ReminderDelivery = (typeof REMINDER_DELIVERIES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  admin: 'Administrator',
  procurement: 'Procurement',
  legal: 'Legal',
  reviewer: 'Security reviewer',
  viewer: 'Viewer (read-only auditor)',
};

/** A staff member. Unique by email (kept lower-case); no password until the user sets one. */
@Entity('users')
export class User {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_users_email', { unique: true })
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 20 })
  role!: Role;

  @Column({ type: 'varchar', length: 255, nullable: true })
  passwordHash!: string | null;

  @Column({ type: 'boolean' })
  active!: boolean;

  @Column({ type: 'integer' })
  failedLoginCount!: number;

  @TimestampColumn({ nullable: true })
  lockedUntil!: Date | null;

  @TimestampColumn({ nullable: true })
  lastLoginAt!: Date | null;

  @TimestampColumn({ nullable: true })
  passwordChangedAt!: Date | null;

  /** Reminder mails one by one as they arise, or one daily digest. */
  @Column({ type: 'varchar', length: 10, default: 'immediate' })
  reminderDelivery!: ReminderDelivery;

  /** SHA-256 of the secret in the user's calendar feed address; null when no feed is set up. */
  @Index('IDX_users_calendar_token', { unique: true })
  @Column({ type: 'varchar', length: 64, nullable: true })
  calendarTokenHash!: string | null;

  @TimestampColumn()
  createdAt!: Date;

  @TimestampColumn()
  updatedAt!: Date;
}

export const TOKEN_PURPOSES = ['setup', 'invite', 'reset'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/**
 * A one-time link: first-run setup (no user yet), an invitation or a password reset.
 * Only the SHA-256 of the token is stored.
 */
@Entity('user_tokens')
export class UserToken {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_user_tokens_user')
  @Column({ type: 'integer', nullable: true })
  userId!: number | null;

  @Column({ type: 'varchar', length: 20 })
  purpose!: TokenPurpose;

  @Index('IDX_user_tokens_hash', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  tokenHash!: string;

  @TimestampColumn()
  expiresAt!: Date;

  @TimestampColumn({ nullable: true })
  usedAt!: Date | null;

  @Column({ type: 'integer', nullable: true })
  createdById!: number | null;

  @TimestampColumn()
  createdAt!: Date;
}

/** A browser session, stored so that several instances share it; keyed by the SHA-256 of its id. */
@Entity('sessions')
export class SessionRecord {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Index('IDX_sessions_user')
  @Column({ type: 'integer', nullable: true })
  userId!: number | null;

  @Column({ type: 'text' })
  data!: string;

  @Index('IDX_sessions_expires')
  @TimestampColumn()
  expiresAt!: Date;

  @TimestampColumn()
  createdAt!: Date;
}
