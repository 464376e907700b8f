import { ApiToken } from '../accounts/api-token.entity';
import { SessionRecord, User, UserToken } from '../accounts/entities';
import { AuditEntry } from '../audit/entities';
import { AmendmentComment, AmendmentItem, Contract, ContractAmendment, ContractClause, ContractFile } from '../contracts/entities';
import { Certification, CertificationLink } from '../certifications/entities';
import { OutboxMessage } from '../mail/entities';
import { Vendor, VendorContact, VendorImport, VendorSubprocessor } from '../vendors/entities';
import { AppSetting } from './settings.entity';
import { Lease, Reminder } from '../reminders/entities';
import { Finding } from '../findings/entities';
import { AnswerHistory, ClarificationRound, EvidenceFile, Questionnaire, QuestionnaireAnswer, QuestionnaireLink, QuestionReview, TemplateSnapshot } from '../questionnaires/entities';

/** Every entity the DataSource knows; a feature adds its own here. */
export const ENTITIES = [User, UserToken, SessionRecord, ApiToken, AuditEntry, OutboxMessage, AppSetting, Vendor, VendorContact, VendorSubprocessor, VendorImport, Questionnaire, QuestionnaireLink, QuestionnaireAnswer, EvidenceFile, Finding, AnswerHistory, QuestionReview, ClarificationRound, TemplateSnapshot, Contract, ContractClause, ContractAmendment, AmendmentItem, AmendmentComment, ContractFile, Certification, CertificationLink, Reminder, Lease];
