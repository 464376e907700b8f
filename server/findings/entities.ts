import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from '../db/columns';
import type { Severity } from '../questionnaires/template';

export const FINDING_STATUSES = ['open', 'remediation_planned', 'resolved', 'risk_accepted', 'closed'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** Findings that still count against a vendor (in the residual rating and the lists of open work). */
export const OPEN_FINDING_STATUSES: FindingStatus[] = ['open', 'remediation_planned'];

export const REMEDIATORS = ['vendor', 'us'] as const;
export type Remediator = (typeof REMEDIATORS)[number];

/**
 * A risk found in a vendor: generated from a questionnaire's risk rules at submission, or added by
 * hand. Carries its citation; moves open -> remediation planned -> resolved, or is risk-accepted
 * (by someone other than its creator, with a reason and an expiry) or closed.
 */
@Entity('findings')
@Index('IDX_findings_created', ['createdAt', 'id'])
@Index('IDX_findings_status_created', ['status', 'createdAt', 'id'])
export class Finding {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_findings_vendor')
  @Column({ type: 'integer' })
  vendorId!: number;

  @Index('IDX_findings_questionnaire')
  @Column({ type: 'integer', nullable: true })
  questionnaireId!: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  questionId!: string | null;

  /** For generated findings: "<questionId>#<rule index>", unique per questionnaire. */
  @Column({ type: 'varchar', length: 80, nullable: true })
  ruleKey!: string | null;

  @Column({ type: 'varchar', length: 12 })
  source!: 'generated' | 'manual';

  @Column({ type: 'varchar', length: 300 })
  title!: string;

  @Index('IDX_findings_severity')
  @Column({ type: 'varchar', length: 10 })
  severity!: Severity;

  /** One or more citations, joined with "; ". */
  @Column({ type: 'varchar', length: 300 })
  citation!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  /** The answer that caused a generated finding, as the vendor gave it. */
  @Column({ type: 'text', nullable: true })
  answerText!: string | null;

  @Column({ type: 'integer', nullable: true })
  ownerId!: number | null;

  @Column({ type: 'varchar', length: 10 })
  remediatedBy!: Remediator;

  @Column({ type: 'text', nullable: true })
  remediationPlan!: string | null;

  @Index('IDX_findings_due')
  @Column({ type: 'varchar', length: 10, nullable: true })
  dueDate!: string | null;

  @Column({ type: 'varchar', length: 20 })
  status!: FindingStatus;

  @Column({ type: 'integer', nullable: true })
  riskAcceptedById!: number | null;

  @Column({ type: 'text', nullable: true })
  riskAcceptanceReason!: string | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  riskAcceptanceExpiresOn!: string | null;

  /** Null for findings the portal generated. */
  @Column({ type: 'integer', nullable: true })
  createdById!: number | null;

  @TimestampColumn()
  createdAt!: Date;

  @TimestampColumn()
  updatedAt!: Date;

  @TimestampColumn({ nullable: true })
  closedAt!: Date | null;
}
