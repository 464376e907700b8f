import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from '../db/columns';
import type { AccessMode, MaResidents, PiElement, Tier, VendorStatus, VolumeBand } from './risk';

const list = {
  to: (v: string[] | undefined) => (v ? v.join(',') : ''),
  from: (v: string | null) => (v ? v.split(',').filter(Boolean) : []),
};

/** A third-party service provider, its data profile and what follows from it (scope, tier, cycle). */
export const REASSESSMENT_STARTS = ['send', 'notify_owner'] as const;
export type ReassessmentStart = (typeof REASSESSMENT_STARTS)[number];

@Entity('vendors')
@Index('IDX_vendors_status_scope_next', ['status', 'inScope', 'nextReassessmentOn'])
export class Vendor {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 300 })
  legalName!: string;

  /** The legal name folded for uniqueness (lower case, single spaces). */
  @Index('IDX_vendors_name_key', { unique: true })
  @Column({ type: 'varchar', length: 300 })
  legalNameKey!: string;

  @Column({ type: 'varchar', length: 300, nullable: true })
  tradingName!: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  website!: string | null;

  @Column({ type: 'text', nullable: true })
  services!: string | null;

  @Index('IDX_vendors_owner')
  @Column({ type: 'integer', nullable: true })
  businessOwnerId!: number | null;

  @Index('IDX_vendors_status')
  @Column({ type: 'varchar', length: 20 })
  status!: VendorStatus;

  @Column({ type: 'text', nullable: true })
  notes!: string | null;

  @Column({ type: 'varchar', length: 100, transformer: list })
  piElements!: PiElement[];

  @Column({ type: 'varchar', length: 10 })
  maResidents!: MaResidents;

  @Column({ type: 'varchar', length: 12 })
  recordVolume!: VolumeBand;

  @Column({ type: 'varchar', length: 100, transformer: list })
  accessModes!: AccessMode[];

  @Column({ type: 'varchar', length: 500, nullable: true })
  dataLocation!: string | null;

  @Column({ type: 'boolean' })
  inScope!: boolean;

  @Column({ type: 'varchar', length: 10 })
  computedTier!: Tier;

  /** The tier in force: the override when there is one, else the computed tier. */
  @Index('IDX_vendors_tier')
  @Column({ type: 'varchar', length: 10 })
  tier!: Tier;

  @Column({ type: 'varchar', length: 10, nullable: true })
  tierOverride!: Tier | null;

  @Column({ type: 'text', nullable: true })
  tierOverrideReason!: string | null;

  @Column({ type: 'integer', nullable: true })
  tierOverrideById!: number | null;

  @TimestampColumn({ nullable: true })
  tierOverrideAt!: Date | null;

  /** YYYY-MM-DD of the last completed assessment. */
  @Column({ type: 'varchar', length: 10, nullable: true })
  lastAssessedOn!: string | null;

  @Index('IDX_vendors_next_reassessment')
  @Column({ type: 'varchar', length: 10, nullable: true })
  nextReassessmentOn!: string | null;

  /**
   * When reassessment falls due: 'send' mails the annual-reassessment questionnaire to the security
   * contact by itself; 'notify_owner' tells the business owner instead, who sends it by hand.
   */
  @Column({ type: 'varchar', length: 12, default: 'send' })
  reassessmentStart!: ReassessmentStart;

  /** The latest submitted assessment's score (0-100). */
  @Column({ type: 'integer', nullable: true })
  lastScore!: number | null;

  /** Inherent tier combined with the open findings (see reviews/scoring.ts). */
  @Column({ type: 'varchar', length: 10, nullable: true })
  residualRating!: 'critical' | 'high' | 'medium' | 'low' | null;

  /** The latest review decision; a rejection keeps the vendor from becoming active. */
  @Column({ type: 'varchar', length: 10, nullable: true })
  lastDecision!: 'approved' | 'rejected' | null;

  @Column({ type: 'integer', nullable: true })
  createdById!: number | null;

  @TimestampColumn()
  createdAt!: Date;

  @Index('IDX_vendors_updated')
  @TimestampColumn()
  updatedAt!: Date;
}

/** A person at the vendor; at most one per vendor is its security contact. */
@Entity('vendor_contacts')
export class VendorContact {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_vendor_contacts_vendor')
  @Column({ type: 'integer' })
  vendorId!: number;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  role!: string | null;

  @Column({ type: 'boolean' })
  isSecurityContact!: boolean;

  @TimestampColumn()
  createdAt!: Date;

  @TimestampColumn()
  updatedAt!: Date;
}

/** A subprocessor the vendor relies on, and what it does. */
@Entity('vendor_subprocessors')
export class VendorSubprocessor {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_vendor_subprocessors_vendor')
  @Column({ type: 'integer' })
  vendorId!: number;

  @Column({ type: 'varchar', length: 300 })
  name!: string;

  @Column({ type: 'varchar', length: 500 })
  purpose!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  location!: string | null;

  @TimestampColumn()
  createdAt!: Date;
}

/** A CSV upload waiting for its preview to be confirmed; committed all at once or not at all. */
@Entity('vendor_imports')
export class VendorImport {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  createdById!: number;

  @Column({ type: 'varchar', length: 255 })
  fileName!: string;

  @Column({ type: 'integer' })
  rowCount!: number;

  /** The validated rows as JSON, ready to insert. */
  @Column({ type: 'text' })
  rows!: string;

  @Column({ type: 'varchar', length: 12 })
  status!: 'previewed' | 'committed' | 'discarded';

  @TimestampColumn()
  createdAt!: Date;

  @TimestampColumn({ nullable: true })
  committedAt!: Date | null;
}
