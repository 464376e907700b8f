import path from 'node:path';
import type { DataSource } from 'typeorm';
import { ApiTokenService } from './accounts/api-tokens';
import { AccountService } from './accounts/service';
import { CertificationTemplateRegistry } from './certifications/registry';
import { CertificationService } from './certifications/service';
import type { Clock } from './clock';
import { deriveKey, type Config } from './config';
import { AmendmentService } from './contracts/amendments';
import { ClauseCatalogue } from './contracts/catalogue';
import { ContractService } from './contracts/service';
import { createTransact, outsideTransaction, type Transact } from './db/data-source';
import { WriteWatch } from './db/write-watch';
import { FindingService } from './findings/service';
import { DatabaseSessionStore } from './http/session';
import type { Logger } from './logger';
import { MailDelivery, type MailTransport } from './mail/delivery';
import { QUESTIONNAIRES_DIR } from './paths';
import { DashboardService } from './reports/dashboard';
import { EvidenceStore } from './questionnaires/evidence';
import { TemplateRegistry } from './questionnaires/registry';
import { QuestionnaireService } from './questionnaires/service';
import { LeaseService } from './reminders/lease';
import { ReviewService } from './reviews/service';
import { VendorImportService } from './vendors/import';
import { VendorService } from './vendors/service';

/** Everything the routes, jobs and command-line tools share; built once per process (or per test). */
export interface Context {
  config: Config;
  ds: DataSource;
  transact: Transact;
  clock: Clock;
  logger: Logger;
  mailKey: Buffer;
  mail: MailDelivery;
  sessions: DatabaseSessionStore;
  accounts: AccountService;
  apiTokens: ApiTokenService;
  vendors: VendorService;
  vendorImports: VendorImportService;
  findings: FindingService;
  templates: TemplateRegistry;
  evidence: EvidenceStore;
  questionnaires: QuestionnaireService;
  reviews: ReviewService;
  clauses: ClauseCatalogue;
  contractFiles: EvidenceStore;
  contracts: ContractService;
  amendments: AmendmentService;
  certificationTemplates: CertificationTemplateRegistry;
  certifications: CertificationService;
  leases: LeaseService;
  dashboard: DashboardService;
}

/** Wires the services to a connected database. */
export function createContext(p: { config: Config; ds: DataSource; clock: Clock; logger: Logger; transport: MailTransport; templatesDir?: string; clauseCatalogueFile?: string; certificationTemplatesDir?: string }): Context {
  const { config, ds, clock, logger } = p;
  const transact = createTransact(ds);
  const mailKey = deriveKey(config, 'mail-outbox');
  const mail = new MailDelivery({
    ds,
    transact,
    clock,
    logger,
    transport: p.transport,
    mailKey,
    from: config.mailFrom,
    messageIdDomain: new URL(config.baseUrl).hostname,
  });
  // Delivery reads only committed messages, even when a message is queued inside a transaction.
  const kickMail = () => outsideTransaction(ds, () => mail.kick());
  const accounts = new AccountService({ ds, transact, clock, mailKey, baseUrl: config.baseUrl, mailQueued: kickMail, organizationName: config.organizationName });
  // Termination waits for the disposal certificate, and offboarding requests it, in the move's transaction.
  const vendors = new VendorService({
    ds,
    transact,
    clock,
    intervals: config.reassessmentIntervals,
    statusRules: {
      check: (m, _actor, v, to, opts) => certifications.checkTransition(m, v, to, opts),
      apply: (m, actor, v, from) => certifications.afterTransition(m, actor, v, from),
      committed: kickMail,
    },
  });
  const vendorImports = new VendorImportService({ ds, transact, clock, vendors });
  const apiTokens = new ApiTokenService({ ds, transact, clock });
  // A finding's status or severity changes the vendor's residual rating, in the same transaction.
  const findings = new FindingService({ ds, transact, clock, openFindingsChanged: async (m, _actor, vendorId) => void (await reviews.refreshRating(m, vendorId)) });
  const templates = new TemplateRegistry(p.templatesDir ?? QUESTIONNAIRES_DIR);
  for (const t of templates.list()) if (!t.valid) logger.warn({ file: t.file, errors: t.errors }, 'questionnaire template is invalid and cannot be sent');
  const evidence = new EvidenceStore(path.join(config.dataDir, 'evidence'), deriveKey(config, 'evidence-files'));
  const questionnaires = new QuestionnaireService({
    ds,
    transact,
    clock,
    templates,
    evidence,
    mailKey,
    mailQueued: kickMail,
    baseUrl: config.baseUrl,
    organizationName: config.organizationName,
    maxFiles: config.evidence.maxFiles,
    linkKey: deriveKey(config, 'questionnaire-links'),
    afterSubmit: (m, actor, q) => reviews.scoreSubmission(m, actor, q),
  });
  const reviews: ReviewService = new ReviewService({
    ds,
    transact,
    clock,
    questionnaires,
    intervals: config.reassessmentIntervals,
    mailKey,
    mailQueued: kickMail,
    organizationName: config.organizationName,
  });
  const certificationTemplates = new CertificationTemplateRegistry(p.certificationTemplatesDir);
  for (const t of certificationTemplates.list()) if (!t.valid) logger.warn({ file: t.file, errors: t.errors }, 'certification template is invalid and cannot be requested');
  const certifications: CertificationService = new CertificationService({
    ds,
    transact,
    clock,
    templates: certificationTemplates,
    evidence,
    mailKey,
    mailQueued: kickMail,
    baseUrl: config.baseUrl,
    organizationName: config.organizationName,
    linkKey: deriveKey(config, 'certification-links'),
  });
  const clauses = new ClauseCatalogue(p.clauseCatalogueFile);
  if (!clauses.status.valid) logger.warn({ file: clauses.status.file, errors: clauses.status.errors }, 'the clause catalogue is invalid; contracts are checked against no clause until it is fixed');
  const contractFiles = new EvidenceStore(path.join(config.dataDir, 'contracts'), deriveKey(config, 'contract-documents'));
  const writes = new WriteWatch(ds);
  const contracts = new ContractService({ ds, transact, clock, catalogue: clauses, files: contractFiles, writes });
  // A refused amendment opens a finding, and the vendor's residual rating follows in the same transaction.
  const amendments = new AmendmentService({ ds, transact, clock, catalogue: clauses, contracts, openFindingsChanged: (m, vendorId) => reviews.refreshRating(m, vendorId) });
  const dashboard = new DashboardService({ ds, clock, contracts, writes });
  return { config, ds, transact, clock, logger, mailKey, mail, sessions: new DatabaseSessionStore(ds, clock), accounts, apiTokens, vendors, vendorImports, findings, templates, evidence, questionnaires, reviews, clauses, contractFiles, contracts, amendments, certificationTemplates, certifications, dashboard, leases: new LeaseService(ds, clock) };
}
