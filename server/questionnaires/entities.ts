import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from '../db/columns';
import type { Severity, Template } from './template';

export const QUESTIONNAIRE_STATUSES = ['sent', 'in_progress', 'submitted', 'returned', 'approved', 'rejected', 'revoked'] as const;
/** Stored statuses; "expired" is derived from the due date (see service.displayStatus). */
export type QuestionnaireStatus = (typeof QUESTIONNAIRE_STATUSES)[number];

/** A questionnaire sent to one vendor contact: a frozen snapshot of its template and the answers. */
@Entity('questionnaires')
export class Questionnaire {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_questionnaires_vendor')
  @Column({ type: 'integer' })
  vendorId!: number;

  @Column({ type: 'integer', nullable: true })
  contactId!: number | null;

  @Column({ type: 'varchar', length: 200 })
  recipientName!: string;

  @Column({ type: 'varchar', length: 254 })
  recipientEmail!: string;

  @Column({ type: 'varchar', length: 64 })
  templateId!: string;

  @Column({ type: 'integer' })
  templateVersion!: number;

  @Column({ type: 'varchar', length: 64 })
  templateHash!: string;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  /**
   * The template exactly as sent (template_snapshots, by templateHash); later edits of the file
   * never reach it. Not a column: filled in by QuestionnaireService.hydrate().
   */
  snapshot!: Template;

  @Index('IDX_questionnaires_status')
  @Column({ type: 'varchar', length: 20 })
  status!: QuestionnaireStatus;

  @Index('IDX_questionnaires_due')
  @Column({ type: 'varchar', length: 10 })
  dueDate!: string;

  @Column({ type: 'integer', nullable: true })
  sentById!: number | null;

  @TimestampColumn()
  sentAt!: Date;

  @TimestampColumn({ nullable: true })
  firstOpenedAt!: Date | null;

  @TimestampColumn({ nullable: true })
  lastSavedAt!: Date | null;

  @TimestampColumn({ nullable: true })
  submittedAt!: Date | null;

  /** 0-100 from the template's risk rules, set at (each) submission. */
  @Column({ type: 'integer', nullable: true })
  score!: number | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  residualRating!: Severity | null;

  @Column({ type: 'text', nullable: true })
  decisionReason!: string | null;

  @Column({ type: 'integer', nullable: true })
  decidedById!: number | null;

  @TimestampColumn({ nullable: true })
  decidedAt!: Date | null;

  @TimestampColumn()
  createdAt!: Date;

  @TimestampColumn()
  updatedAt!: Date;
}

/** A template as it was sent, stored once per content hash. Never changes. */
@Entity('template_snapshots')
export class TemplateSnapshot {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  hash!: string;

  @Column({ type: 'varchar', length: 64 })
  templateId!: string;

  @Column({ type: 'integer' })
  version!: number;

  @JsonColumn()
  content!: Template;

  @TimestampColumn()
  createdAt!: Date;
}

/** One link ever issued for a questionnaire; only the SHA-256 of its token is kept. */
@Entity('questionnaire_links')
export class QuestionnaireLink {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_questionnaire_links_questionnaire')
  @Column({ type: 'integer' })
  questionnaireId!: number;

  @Index('IDX_questionnaire_links_hash', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  tokenHash!: string;

  @TimestampColumn()
  issuedAt!: Date;

  @TimestampColumn()
  expiresAt!: Date;

  /** Set when a resend issued a newer link. */
  @TimestampColumn({ nullable: true })
  replacedAt!: Date | null;

  @TimestampColumn({ nullable: true })
  revokedAt!: Date | null;

  /** The token encrypted with the portal's key, so later emails can carry the same link. */
  @Column({ type: 'text', nullable: true })
  tokenEncrypted!: string | null;
}

/** Every change to an answer: before, after, who and when. */
@Entity('answer_history')
@Index('IDX_answer_history_question', ['questionnaireId', 'questionId'])
export class AnswerHistory {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  questionnaireId!: number;

  @Column({ type: 'varchar', length: 64 })
  questionId!: string;

  @JsonColumn({ nullable: true })
  previousValue!: AnswerValue;

  @JsonColumn({ nullable: true })
  newValue!: AnswerValue;

  @Column({ type: 'varchar', length: 300 })
  changedBy!: string;

  @TimestampColumn()
  changedAt!: Date;
}

export const REVIEW_MARKS = ['accepted', 'clarify', 'finding'] as const;
export type ReviewMark = (typeof REVIEW_MARKS)[number];

/** A reviewer's mark on one question: internal comment, and the message to the vendor when clarifying. */
@Entity('question_reviews')
@Index('IDX_question_reviews_question', ['questionnaireId', 'questionId'], { unique: true })
export class QuestionReview {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  questionnaireId!: number;

  @Column({ type: 'varchar', length: 64 })
  questionId!: string;

  @Column({ type: 'varchar', length: 12, nullable: true })
  mark!: ReviewMark | null;

  /** Internal: never shown to the vendor. */
  @Column({ type: 'text', nullable: true })
  comment!: string | null;

  /** What the vendor is asked, shown beside the reopened question. */
  @Column({ type: 'text', nullable: true })
  clarification!: string | null;

  @Column({ type: 'integer', nullable: true })
  updatedById!: number | null;

  @TimestampColumn()
  updatedAt!: Date;
}

/** One request for clarification: the questions reopened, with the reviewer's message for each. */
@Entity('clarification_rounds')
export class ClarificationRound {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_clarification_rounds_questionnaire')
  @Column({ type: 'integer' })
  questionnaireId!: number;

  @Column({ type: 'integer' })
  round!: number;

  @JsonColumn()
  questions!: { questionId: string; message: string }[];

  @Column({ type: 'integer', nullable: true })
  requestedById!: number | null;

  @TimestampColumn()
  requestedAt!: Date;

  @TimestampColumn({ nullable: true })
  respondedAt!: Date | null;
}

/** The current answer to one question. Value: text, a number, a list of option values, or null. */
@Entity('questionnaire_answers')
@Index('IDX_answers_question', ['questionnaireId', 'questionId'], { unique: true })
export class QuestionnaireAnswer {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  questionnaireId!: number;

  @Column({ type: 'varchar', length: 64 })
  questionId!: string;

  @JsonColumn({ nullable: true })
  value!: AnswerValue;

  @TimestampColumn()
  updatedAt!: Date;
}

export type AnswerValue = string | number | string[] | null;

/** Evidence uploaded for a file question: encrypted on disk, described here. */
@Entity('questionnaire_files')
export class EvidenceFile {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index('IDX_evidence_questionnaire')
  @Column({ type: 'integer' })
  questionnaireId!: number;

  @Column({ type: 'varchar', length: 64 })
  questionId!: string;

  /** The sanitized name shown to people. */
  @Column({ type: 'varchar', length: 255 })
  fileName!: string;

  /** Random name of the encrypted file under DATA_DIR/evidence. */
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

  @TimestampColumn()
  uploadedAt!: Date;
}
