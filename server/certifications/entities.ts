import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from '../db/columns';
import type { CertificationPurpose } from './template';

export const CERTIFICATION_STATUSES = ['requested', 'uploaded', 'signed', 'declined', 'revoked'] as const;
/** Stored statuses; "expiring" and "expired" are derived from expiresOn (see service.displayStatus). */
export type CertificationStatus = (typeof CERTIFICATION_STATUSES)[number];

export const SIGNING_METHODS = ['link', 'upload'] as const;
export type SigningMethod = (typeof SIGNING_METHODS)[number];

/**
 * A written certification asked of one vendor contact: the text exactly as requested (never the
 * template file), and once signed, who signed, when, from where and how. A signed row never changes:
 * the service refuses, and a database trigger refuses any UPDATE or DELETE of it.
 */
@Entity('certifications')
@Index('IDX_certifications_status_expires', ['status', 'expiresOn'])
@Index('IDX_certifications_vendor_purpose', ['vendorId', 'purpose', 'status'])
export class Certification {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_certifications_vendor')
  @Column({ type: 'integer' })
  vendorId!: number;

  @Column({ type: 'integer', nullable: true })
  contactId!: number | null;

  @Column({ type: 'varchar', length: 200 })
  recipientName!: string;

  @Column({ type: 'varchar', length: 254 })
  recipientEmail!: string;

  @Index('IDX_certifications_template')
  @Column({ type: 'varchar', length: 64 })
  templateId!: string;

  @Column({ type: 'integer' })
  templateVersion!: number;

  /** SHA-256 of the template file's normalized content when requested. */
  @Column({ type: 'varchar', length: 64 })
  templateHash!: string;

  @Index('IDX_certifications_purpose')
  @Column({ type: 'varchar', length: 16 })
  purpose!: CertificationPurpose;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  /** The statement with the vendor's and our names filled in, exactly as shown to the signer. */
  @Column({ type: 'text' })
  statement!: string;

  /** SHA-256 of certificationText(title, statement): what the signer saw. */
  @Column({ type: 'varchar', length: 64 })
  textSha256!: string;

  /** Null: the certification does not expire (a one-off attestation such as the disposal certificate). */
  @Column({ type: 'integer', nullable: true })
  validityMonths!: number | null;

  @Column({ type: 'varchar', length: 12 })
  status!: CertificationStatus;

  @Column({ type: 'varchar', length: 10 })
  dueDate!: string;

  /** Set when requested as the last step of a questionnaire. */
  @Column({ type: 'integer', nullable: true })
  questionnaireId!: number | null;

  @Column({ type: 'integer', nullable: true })
  requestedById!: number | null;

  @TimestampColumn()
  requestedAt!: Date;

  @Column({ type: 'varchar', length: 200, nullable: true })
  signerName!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  signerTitle!: string | null;

  @Column({ type: 'varchar', length: 300, nullable: true })
  signerCompany!: string | null;

  /** The name as typed in the signature field (signing by link). */
  @Column({ type: 'varchar', length: 200, nullable: true })
  signature!: string | null;

  @Column({ type: 'varchar', length: 8, nullable: true })
  method!: SigningMethod | null;

  /** When the vendor signed (by link) or uploaded the signed PDF; UTC. */
  @TimestampColumn({ nullable: true })
  signedAt!: Date | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  signedIp!: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  signedUserAgent!: string | null;

  /** The certification link the vendor used. */
  @Column({ type: 'integer', nullable: true })
  signedLinkId!: number | null;

  /** Last day in force (YYYY-MM-DD); null while unsigned or for certifications that do not expire. */
  @Index('IDX_certifications_expires')
  @Column({ type: 'varchar', length: 10, nullable: true })
  expiresOn!: string | null;

  /** The uploaded signed PDF: shown name, random stored name (encrypted under DATA_DIR/evidence), size and SHA-256. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  fileName!: string | null;

  @Column({ type: 'varchar', length: 80, nullable: true })
  storedName!: string | null;

  @Column({ type: 'integer', nullable: true })
  fileSize!: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  fileSha256!: string | null;

  /** Who confirmed an uploaded PDF, and when. */
  @Column({ type: 'integer', nullable: true })
  confirmedById!: number | null;

  @TimestampColumn({ nullable: true })
  confirmedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  declineReason!: string | null;

  @TimestampColumn({ nullable: true })
  declinedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  revokeReason!: string | null;

  @TimestampColumn({ nullable: true })
  revokedAt!: Date | null;

  /** SHA-256 over the text hash and every signature field, fixed at signing (see service.sealOf). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  sealSha256!: string | null;

  @TimestampColumn()
  createdAt!: Date;

  @TimestampColumn()
  updatedAt!: Date;
}

/** One link ever issued for a certification; only the SHA-256 of its token is kept. */
@Entity('certification_links')
export class CertificationLink {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_certification_links_certification')
  @Column({ type: 'integer' })
  certificationId!: number;

  @Index('IDX_certification_links_hash', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  tokenHash!: string;

  /** The token encrypted with the portal's key, so later emails can carry the same link. */
  @Column({ type: 'text', nullable: true })
  tokenEncrypted!: string | null;

  @TimestampColumn()
  issuedAt!: Date;

  @TimestampColumn()
  expiresAt!: Date;

  /** Set when a resend issued a newer link. */
  @TimestampColumn({ nullable: true })
  replacedAt!: Date | null;

  @TimestampColumn({ nullable: true })
  revokedAt!: Date | null;
}
