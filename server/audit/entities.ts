import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../db/columns';

export const ACTOR_TYPES = ['user', 'vendor_link', 'system', 'anonymous'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** Field name -> [before, after]. */
export type Changes = Record<string, [unknown, unknown]>;

/** One line of the append-only audit trail (the database refuses updates and deletes). */
@Entity('audit_entries')
@Index('IDX_audit_entity', ['entityType', 'entityId', 'at'])
@Index('IDX_audit_actor', ['actorId', 'at'])
export class AuditEntry {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_audit_at')
  @TimestampColumn()
  at!: Date;

  @Column({ type: 'varchar', length: 16 })
  actorType!: ActorType;

  @Column({ type: 'integer', nullable: true })
  actorId!: number | null;

  /** Who it was at the time (an email, a vendor link's description), kept even if the user changes. */
  @Column({ type: 'varchar', length: 300 })
  actorLabel!: string;

  @Index('IDX_audit_action')
  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ type: 'varchar', length: 40, nullable: true })
  entityType!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  entityId!: string | null;

  @JsonColumn({ nullable: true })
  changes!: Changes | null;

  @JsonColumn({ nullable: true })
  details!: Record<string, unknown> | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;
}
