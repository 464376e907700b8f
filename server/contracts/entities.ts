import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from '../db/columns';

export const CONTRACT_TYPES = ['msa', 'dpa', 'sow', 'baa', 'nda', 'other'] as const;
export type ContractType = (typeof CONTRACT_TYPES)[number];

export const CONTRACT_STATUSES = ['draft', 'active', 'expired', 'terminated'] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];

/** What a contract says about one clause; "not reviewed" is the absence of a row. */
export const CLAUSE_STATUSES = ['present', 'partial', 'missing', 'not_applicable'] as const;
export type ClauseStatus = (typeof CLAUSE_STATUSES)[number];

export const AMENDMENT_STATUSES = ['drafted', 'sent', 'negotiating', 'executed', 'refused', 'withdrawn'] as const;
export type AmendmentStatus = (typeof AMENDMENT_STATUSES)[number];

/** Amendments still being worked on. */
export const OPEN_AMENDMENT_STATUSES: AmendmentStatus[] = ['drafted', 'sent', 'negotiating'];

export const FILE_KINDS = ['signed', 'redline', 'executed'] as const;
export type ContractFileKind = (typeof FILE_KINDS)[number];

/**
 * A contract with a vendor: its type, dates, renewal terms and status, and the contract it amends.
 * Its signed document is a ContractFile of kind "signed" (the newest one counts).
 */
@Entity('contracts')
@Index('IDX_contracts_vendor_status', ['vendorId', 'status'])
export class Contract {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  vendorId!: number;

  @Column({ type: 'varchar', length: 300 })
  title!: string;

  @Index('IDX_contracts_type')
  @Column({ type: 'varchar', length: 10 })
  type!: ContractType;

  @Index('IDX_contracts_status')
  @Column({ type: 'varchar', length: 12 })
  status!: ContractStatus;

  /** YYYY-MM-DD; required once the contract is no longer a draft. */
  @Column({ type: 'varchar', length: 10, nullable: true })
  effectiveOn!: string | null;

  @Index('IDX_contracts_expires')
  @Column({ type: 'varchar', length: 10, nullable: true })
  expiresOn!: string | null;

  /** The day it was entered into (signed); decides the legacy note of 17.03(2)(f). */
  @Column({ type: 'varchar', length: 10, nullable: true })
  signedOn!: string | null;

  @Column({ type: 'boolean' })
  autoRenews!: boolean;

  /** Days of notice needed to end (or stop the renewal of) the contract before it expires. */
  @Column({ type: 'integer', nullable: true })
  noticeDays!: number | null;

  /** The expiry date less the notice period: the last day to give notice. Derived, kept for the reminders' query. */
  @Index('IDX_contracts_notice_deadline')
  @Column({ type: 'varchar', length: 10, nullable: true })
  noticeDeadline!: string | null;

  @Index('IDX_contracts_amends')
  @Column({ type: 'integer', nullable: true })
  amendsId!: number | null;

  @Column({ type: 'text', nullable: true })
  notes!: string | null;

  @Column({ type: 'integer', nullable: true })
  createdById!: number | null;

  @TimestampColumn()
  createdAt!: Date;

  @TimestampColumn()
  updatedAt!: Date;
}

/** The review of one catalogue clause in one contract. */
@Entity('contract_clauses')
@Index('IDX_contract_clauses_contract_clause', ['contractId', 'clauseId'], { unique: true })
@Index('IDX_contract_clauses_clause_status', ['clauseId', 'status'])
@Index('IDX_contract_clauses_coverage', ['contractId', 'clauseId', 'status'])
export class ContractClause {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  contractId!: number;

  @Column({ type: 'varchar', length: 32 })
  clauseId!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: ClauseStatus;

  /** Where the contract says it ("§12.3"); required when present. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  reference!: string | null;

  /** What is missing (partial) or why the clause does not apply (not applicable). */
  @Column({ type: 'text', nullable: true })
  note!: string | null;

  /** The executed amendment that added the clause, if that is how it got there. */
  @Index('IDX_contract_clauses_amendment')
  @Column({ type: 'integer', nullable: true })
  amendmentId!: number | null;

  @Column({ type: 'integer', nullable: true })
  reviewedById!: number | null;

  @TimestampColumn()
  reviewedAt!: Date;
}

/**
 * A request to amend one vendor's contracts so that they contain clauses they lack: drafted ->
 * sent -> negotiating -> executed, or refused, or withdrawn.
 */
@Entity('contract_amendments')
export class ContractAmendment {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_amendments_vendor')
  @Column({ type: 'integer' })
  vendorId!: number;

  @Column({ type: 'varchar', length: 300 })
  title!: string;

  @Index('IDX_amendments_status')
  @Column({ type: 'varchar', length: 12 })
  status!: AmendmentStatus;

  @Index('IDX_amendments_owner')
  @Column({ type: 'integer', nullable: true })
  ownerId!: number | null;

  @Index('IDX_amendments_target')
  @Column({ type: 'varchar', length: 10, nullable: true })
  targetDate!: string | null;

  @TimestampColumn({ nullable: true })
  sentAt!: Date | null;

  @TimestampColumn({ nullable: true })
  negotiatingAt!: Date | null;

  /** When it was executed, refused or withdrawn. */
  @TimestampColumn({ nullable: true })
  closedAt!: Date | null;

  /** Why it was refused or withdrawn. */
  @Column({ type: 'text', nullable: true })
  closingReason!: string | null;

  /** The finding a refusal opened. */
  @Column({ type: 'integer', nullable: true })
  findingId!: number | null;

  @Column({ type: 'integer', nullable: true })
  createdById!: number | null;

  @Index('IDX_amendments_created')
  @TimestampColumn()
  createdAt!: Date;

  @TimestampColumn()
  updatedAt!: Date;
}

/** One clause of one contract that an amendment is meant to add. */
@Entity('contract_amendment_items')
@Index('IDX_amendment_items_unique', ['amendmentId', 'contractId', 'clauseId'], { unique: true })
@Index('IDX_amendment_items_contract_clause', ['contractId', 'clauseId'])
export class AmendmentItem {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  amendmentId!: number;

  @Column({ type: 'integer' })
  contractId!: number;

  @Column({ type: 'varchar', length: 32 })
  clauseId!: string;

  /** Missing or partial, when the amendment was opened. */
  @Column({ type: 'varchar', length: 16 })
  statusAtOpening!: ClauseStatus;

  /** Where the executed amendment puts the clause. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  reference!: string | null;
}

/** A comment in an amendment's thread. */
@Entity('contract_amendment_comments')
export class AmendmentComment {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_amendment_comments_amendment')
  @Column({ type: 'integer' })
  amendmentId!: number;

  @Column({ type: 'integer', nullable: true })
  authorId!: number | null;

  @Column({ type: 'text' })
  body!: string;

  @TimestampColumn()
  createdAt!: Date;
}

/**
 * A document kept encrypted under DATA_DIR/contracts: a contract's signed copy, an amendment's
 * redlines, or the executed amendment.
 */
@Entity('contract_files')
export class ContractFile {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_contract_files_vendor')
  @Column({ type: 'integer' })
  vendorId!: number;

  @Index('IDX_contract_files_contract')
  @Column({ type: 'integer', nullable: true })
  contractId!: number | null;

  @Index('IDX_contract_files_amendment')
  @Column({ type: 'integer', nullable: true })
  amendmentId!: number | null;

  @Column({ type: 'varchar', length: 12 })
  kind!: ContractFileKind;

  /** The sanitized name shown to people. */
  @Column({ type: 'varchar', length: 255 })
  fileName!: string;

  /** Random name of the encrypted file. */
  @Column({ type: 'varchar', length: 80 })
  storedName!: string;

  /** Decided from the content, not the name. */
  @Column({ type: 'varchar', length: 100 })
  mediaType!: string;

  @Column({ type: 'integer' })
  size!: number;

  /** SHA-256 of the plaintext. */
  @Column({ type: 'varchar', length: 64 })
  sha256!: string;

  @Column({ type: 'integer', nullable: true })
  uploadedById!: number | null;

  @TimestampColumn()
  uploadedAt!: Date;
}
