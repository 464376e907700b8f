import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { type DataSource, type EntityManager, In, IsNull } from 'typeorm';
import { User } from '../accounts/entities';
import { AuditEntry } from '../audit/entities';
import { type Actor, recordAudit } from '../audit/service';
import { type Clock, DAY } from '../clock';
import type { Transact } from '../db/data-source';
import { rawInt, rawQuery } from '../db/raw';
import { columnsOf } from '../db/rows';
import { ConflictError, GoneError, NotFoundError, ValidationError } from '../errors';
import { certificationRequestedEmail } from '../mail/messages/certification-requested';
import { certificationResponseEmail } from '../mail/messages/certification-response';
import { enqueueMail } from '../mail/outbox';
import { Questionnaire } from '../questionnaires/entities';
import { type EvidenceStore, detectType, sanitizeFileName } from '../questionnaires/evidence';
import { decryptText, encryptText, newToken, sha256Hex } from '../security/crypto';
import { liveLinkAddresses } from '../security/live-links';
import { Vendor, VendorContact } from '../vendors/entities';
import { addMonths, type VendorStatus } from '../vendors/risk';
import type { TransitionOptions } from '../vendors/service';
import { Certification, CertificationLink, type CertificationStatus } from './entities';
import type { CertificationTemplateRegistry } from './registry';
import { type CertificationPurpose, renderStatement, textHash } from './template';
import { addDays } from '../dates';

export { addDays };

/** A link stays valid this long after the due date, so a late vendor can still sign. */
export const GRACE_DAYS = 14;
/** After signing, the link shows the signed certificate for this long. */
export const READ_ONLY_DAYS = 30;
export const DEFAULT_DUE_DAYS = 30;
/** A signed certification is "expiring" when it has this many days or fewer left. */
export const EXPIRING_DAYS = 30;

export type DisplayStatus = CertificationStatus | 'expiring' | 'expired';
export const DISPLAY_STATUSES: DisplayStatus[] = ['requested', 'uploaded', 'signed', 'expiring', 'expired', 'declined', 'revoked'];

export const STATUS_LABELS: Record<DisplayStatus, string> = {
  requested: 'Requested',
  uploaded: 'Awaiting confirmation',
  signed: 'Signed',
  expiring: 'Expiring',
  expired: 'Expired',
  declined: 'Declined',
  revoked: 'Withdrawn',
};

/** Requests the vendor can still act on. */
export const OPEN_STATUSES: CertificationStatus[] = ['requested', 'uploaded'];

export interface CertificationServiceDeps {
  ds: DataSource;
  transact: Transact;
  clock: Clock;
  templates: CertificationTemplateRegistry;
  evidence: EvidenceStore;
  mailKey: Buffer;
  mailQueued: () => void;
  baseUrl: string;
  organizationName: string;
  /** Encrypts link tokens so later emails can carry the same link. */
  linkKey: Buffer;
}

export interface SignatureInput {
  signerName: string;
  signerTitle: string;
  signerCompany: string;
  signature: string;
  /** The SHA-256 of the text the page showed, sent back with the form. */
  textSha256: string;
}

export interface SignerDetails {
  signerName: string;
  signerTitle: string;
  signerCompany: string;
}

/** Where the vendor acted from: recorded with the signature. */
export interface SigningContext {
  ip: string | null;
  userAgent: string | null;
}

export interface Verification {
  ok: boolean;
  checkedAt: Date;
  text: { stored: string; computed: string; ok: boolean };
  /** Null while unsigned. */
  seal: { stored: string | null; computed: string; ok: boolean } | null;
  /** For an uploaded PDF: the stored file decrypted and hashed again. */
  file: { stored: string; computed: string | null; ok: boolean } | null;
}

export interface VendorCertificationSummary {
  status: DisplayStatus;
  label: string;
  expiresOn: string | null;
  /** A renewal is open while the current one is still in force. */
  renewalRequested: boolean;
  certificationId: number;
}

export interface CertificationFilter {
  status?: DisplayStatus;
  templateId?: string;
  purpose?: CertificationPurpose;
  vendorId?: number;
}

/** The end of a day (UTC) as an instant. */
function endOfDay(date: string): Date {
  return new Date(`${date}T23:59:59.999Z`);
}


/** The last day a certification signed on `signedOn` is in force, or null when it does not expire. */
export function expiryFor(signedOn: string, validityMonths: number | null): string | null {
  return validityMonths === null ? null : addDays(addMonths(signedOn, validityMonths), -1);
}

/** The columns of a certification that a list row shows (see certificationRow). */
const LIST_ROW_COLUMNS = ['id', 'vendorId', 'title', 'templateId', 'templateVersion', 'purpose', 'status', 'dueDate', 'requestedAt', 'signedAt', 'signerName', 'method', 'expiresOn', 'recipientEmail'] as const satisfies readonly (keyof Certification)[];

/** A certification as a list row reads it. */
export type CertificationListRow = Pick<Certification, (typeof LIST_ROW_COLUMNS)[number]>;

/** The stored status, or "expiring" / "expired" for a signed certification near or past its last day. */
export function displayStatus(c: Pick<Certification, 'status' | 'expiresOn'>, today: string): DisplayStatus {
  if (c.status !== 'signed' || !c.expiresOn) return c.status;
  if (c.expiresOn < today) return 'expired';
  if (c.expiresOn <= addDays(today, EXPIRING_DAYS)) return 'expiring';
  return 'signed';
}

/** A name compared the way a typed signature is matched: case, accents' form and spacing do not matter. */
function nameKey(s: string): string {
  return s.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * SHA-256 over the text hash and every field of the signature, in a fixed order. Fixed at signing;
 * verification recomputes it, so a changed signer, time or address is caught as well as a changed text.
 */
export function sealOf(c: Certification): string {
  return sha256Hex(
    JSON.stringify({
      v: 1,
      id: c.id,
      vendorId: c.vendorId,
      templateId: c.templateId,
      templateVersion: c.templateVersion,
      textSha256: c.textSha256,
      method: c.method,
      signerName: c.signerName,
      signerTitle: c.signerTitle,
      signerCompany: c.signerCompany,
      signature: c.signature,
      signedAt: c.signedAt?.toISOString() ?? null,
      signedIp: c.signedIp,
      signedUserAgent: c.signedUserAgent,
      signedLinkId: c.signedLinkId,
      fileSha256: c.fileSha256,
      confirmedById: c.confirmedById,
      confirmedAt: c.confirmedAt?.toISOString() ?? null,
      expiresOn: c.expiresOn,
    }),
  );
}

/**
 * Written certifications: requested by emailed link, signed online or by an uploaded PDF that staff
 * confirm, declined, withdrawn; verified against their hashes; and the disposal certificate that
 * gates a vendor's termination.
 */
export class CertificationService {
  constructor(private readonly d: CertificationServiceDeps) {}

  today(): string {
    return this.d.clock.now().toISOString().slice(0, 10);
  }

  displayStatus(c: Pick<Certification, 'status' | 'expiresOn'>): DisplayStatus {
    return displayStatus(c, this.today());
  }

  linkExpiry(dueDate: string): Date {
    return new Date(endOfDay(dueDate).getTime() + GRACE_DAYS * DAY);
  }

  async get(id: number): Promise<Certification> {
    const c = Number.isSafeInteger(id) ? await this.d.ds.getRepository(Certification).findOne({ where: { id } }) : null;
    if (!c) throw new NotFoundError('No such certification.');
    return c;
  }

  /** A vendor's certifications, newest request first. */
  async forVendor(vendorId: number): Promise<Certification[]> {
    return this.d.ds.getRepository(Certification).find({ where: { vendorId }, order: { requestedAt: 'DESC', id: 'DESC' } });
  }

  /**
   * A vendor's certifications as a list shows them (certificationRow), newest request first: plain
   * SQL over the listed columns only, for the vendor page, which reads them on every view.
   */
  async listRowsForVendor(vendorId: number): Promise<CertificationListRow[]> {
    const columns = columnsOf(this.d.ds, Certification, LIST_ROW_COLUMNS);
    const rows = await rawQuery<Record<string, unknown>>(
      this.d.ds,
      `SELECT ${columns.list('c')} FROM "certifications" "c" WHERE "c"."vendorId" = :vendorId ORDER BY "c"."requestedAt" DESC, "c"."id" DESC`,
      { vendorId },
    );
    return rows.map((r) => columns.read(r, 'c'));
  }

  /** Certifications requested after a questionnaire. */
  async forQuestionnaire(questionnaireId: number): Promise<Certification[]> {
    return this.d.ds.getRepository(Certification).find({ where: { questionnaireId }, order: { requestedAt: 'DESC', id: 'DESC' } });
  }

  /**
   * A page of certifications across vendors. Expiry filters sort by the last day in force (soonest
   * first); the others show the newest requests first.
   */
  async list(filter: CertificationFilter, page: number, pageSize: number): Promise<{ rows: Certification[]; total: number }> {
    const qb = this.d.ds
      .getRepository(Certification)
      .createQueryBuilder('c')
      .select(['c.id', 'c.vendorId', 'c.title', 'c.templateId', 'c.templateVersion', 'c.purpose', 'c.status', 'c.dueDate', 'c.requestedAt', 'c.signedAt', 'c.expiresOn', 'c.recipientEmail', 'c.signerName', 'c.method']);
    const today = this.today();
    const soon = addDays(today, EXPIRING_DAYS);
    switch (filter.status) {
      case undefined:
        break;
      case 'signed':
        qb.andWhere("c.status = 'signed' AND (c.expiresOn IS NULL OR c.expiresOn > :soon)", { soon });
        break;
      case 'expiring':
        qb.andWhere("c.status = 'signed' AND c.expiresOn >= :today AND c.expiresOn <= :soon", { today, soon });
        break;
      case 'expired':
        qb.andWhere("c.status = 'signed' AND c.expiresOn < :today", { today });
        break;
      default:
        qb.andWhere('c.status = :status', { status: filter.status });
    }
    if (filter.templateId) qb.andWhere('c.templateId = :templateId', { templateId: filter.templateId });
    if (filter.purpose) qb.andWhere('c.purpose = :purpose', { purpose: filter.purpose });
    if (filter.vendorId) qb.andWhere('c.vendorId = :vendorId', { vendorId: filter.vendorId });
    if (filter.status === 'expiring' || filter.status === 'expired') qb.orderBy('c.expiresOn', filter.status === 'expiring' ? 'ASC' : 'DESC');
    else qb.orderBy('c.requestedAt', 'DESC');
    const [rows, total] = await qb.addOrderBy('c.id', 'DESC').offset((page - 1) * pageSize).limit(pageSize).getManyAndCount();
    return { rows, total };
  }

  /**
   * Where each vendor stands on its annual security certification, for a page of vendors in one
   * query: in force (signed or expiring) wins, then an open request, then expired, then declined.
   */
  async summaries(vendorIds: number[]): Promise<Map<number, VendorCertificationSummary>> {
    const out = new Map<number, VendorCertificationSummary>();
    if (vendorIds.length === 0) return out;
    // Plain SQL: the vendor list reads it on every view.
    const raw = await rawQuery<{ id: number | string; vendorId: number | string; status: CertificationStatus; expiresOn: string | null }>(
      this.d.ds,
      'SELECT "id", "vendorId", "status", "expiresOn" FROM "certifications" WHERE "vendorId" IN (:...vendorIds) AND "purpose" = :purpose AND "status" IN (:...statuses) ORDER BY "requestedAt" DESC, "id" DESC',
      { vendorIds: [...new Set(vendorIds)], purpose: 'annual', statuses: ['requested', 'uploaded', 'signed', 'declined'] },
    );
    const today = this.today();
    const byVendor = new Map<number, Pick<Certification, 'id' | 'status' | 'expiresOn'>[]>();
    for (const r of raw) {
      const vendorId = rawInt(r.vendorId);
      const row = { id: rawInt(r.id), status: r.status, expiresOn: r.expiresOn ?? null };
      const list = byVendor.get(vendorId);
      if (list) list.push(row);
      else byVendor.set(vendorId, [row]);
    }
    for (const [vendorId, certs] of byVendor) {
      const withStatus = certs.map((c) => ({ c, s: displayStatus(c, today) }));
      const inForce = withStatus.filter((x) => x.s === 'signed' || x.s === 'expiring').sort((a, b) => (b.c.expiresOn ?? '9999-12-31').localeCompare(a.c.expiresOn ?? '9999-12-31'))[0];
      const open = withStatus.find((x) => x.s === 'requested' || x.s === 'uploaded');
      const expired = withStatus.filter((x) => x.s === 'expired').sort((a, b) => (b.c.expiresOn ?? '').localeCompare(a.c.expiresOn ?? ''))[0];
      const chosen = inForce ?? open ?? expired ?? withStatus[0]!;
      out.set(vendorId, { status: chosen.s, label: STATUS_LABELS[chosen.s], expiresOn: chosen.c.expiresOn, renewalRequested: !!inForce && !!open, certificationId: chosen.c.id });
    }
    return out;
  }

  /**
   * Requests a certification: renders the template's text for this vendor, pins it with its SHA-256,
   * issues the link and queues the email, in one transaction. Returns the link (shown once).
   */
  async request(actor: Actor, input: { vendorId: number; contactId: number; templateId: string; dueDate?: string | null; questionnaireId?: number | null }): Promise<{ certification: Certification; link: string }> {
    const result = await this.d.transact((m) => this.requestIn(m, actor, input));
    this.d.mailQueued();
    return result;
  }

  /** request() inside a caller's transaction (the move to offboarding). */
  async requestIn(m: EntityManager, actor: Actor, input: { vendorId: number; contactId: number; templateId: string; dueDate?: string | null; questionnaireId?: number | null }): Promise<{ certification: Certification; link: string }> {
    const template = this.d.templates.get(input.templateId);
    if (!template) throw new ValidationError({ templateId: 'Choose a valid certification template.' });
    const today = this.today();
    const dueDate = input.dueDate || addDays(today, DEFAULT_DUE_DAYS);
    if (dueDate <= today) throw new ValidationError({ dueDate: 'The due date must be after today.' });
    const vendor = await m.findOne(Vendor, { where: { id: input.vendorId } });
    if (!vendor) throw new NotFoundError('No such vendor.');
    if (vendor.status === 'terminated') throw new ConflictError('This vendor is terminated; move it back to prospect before requesting a certification.');
    const contact = await m.findOne(VendorContact, { where: { id: input.contactId, vendorId: vendor.id } });
    if (!contact) throw new ValidationError({ contactId: "Choose one of this vendor's contacts." });
    if (input.questionnaireId && (await m.count(Questionnaire, { where: { id: input.questionnaireId, vendorId: vendor.id } })) === 0) {
      throw new ValidationError({ questionnaireId: "That questionnaire is not one of this vendor's." });
    }
    const now = this.d.clock.now();
    const t = template.template;
    const statement = renderStatement(t, { vendor: vendor.legalName, organization: this.d.organizationName });
    const c = await m.save(
      m.create(Certification, {
        vendorId: vendor.id,
        contactId: contact.id,
        recipientName: contact.name,
        recipientEmail: contact.email,
        templateId: t.id,
        templateVersion: t.version,
        templateHash: template.contentHash,
        purpose: t.purpose,
        title: t.title,
        statement,
        textSha256: textHash(t.title, statement),
        validityMonths: t.validity_months === 'never' ? null : t.validity_months,
        status: 'requested',
        dueDate,
        questionnaireId: input.questionnaireId ?? null,
        requestedById: actor.id,
        requestedAt: now,
        signerName: null,
        signerTitle: null,
        signerCompany: null,
        signature: null,
        method: null,
        signedAt: null,
        signedIp: null,
        signedUserAgent: null,
        signedLinkId: null,
        expiresOn: null,
        fileName: null,
        storedName: null,
        fileSize: null,
        fileSha256: null,
        confirmedById: null,
        confirmedAt: null,
        declineReason: null,
        declinedAt: null,
        revokeReason: null,
        revokedAt: null,
        sealSha256: null,
        createdAt: now,
        updatedAt: now,
      }),
    );
    const link = await this.issueLink(m, c, vendor, actor);
    await recordAudit(m, this.d.clock, actor, {
      action: 'certification.requested',
      entityType: 'certification',
      entityId: c.id,
      details: { vendorId: vendor.id, template: `${t.id}@${t.version}`, templateHash: template.contentHash, textSha256: c.textSha256, to: contact.email, dueDate, questionnaireId: c.questionnaireId },
    });
    await recordAudit(m, this.d.clock, actor, {
      action: 'vendor.certification_requested',
      entityType: 'vendor',
      entityId: vendor.id,
      details: { certificationId: c.id, title: c.title, to: contact.email, dueDate },
    });
    return { certification: c, link };
  }

  /** A new link (the previous one answers 410 from now on) and an email with it. */
  private async issueLink(m: EntityManager, c: Certification, vendor: Vendor, actor: Actor, rejectionReason: string | null = null): Promise<string> {
    const now = this.d.clock.now();
    await m.update(CertificationLink, { certificationId: c.id, replacedAt: IsNull(), revokedAt: IsNull() }, { replacedAt: now });
    const token = newToken();
    await m.insert(CertificationLink, {
      certificationId: c.id,
      tokenHash: sha256Hex(token),
      tokenEncrypted: encryptText(this.d.linkKey, token),
      issuedAt: now,
      expiresAt: this.linkExpiry(c.dueDate),
      replacedAt: null,
      revokedAt: null,
    });
    const link = `${this.d.baseUrl}/c/${token}`;
    const sender = actor.id ? await m.findOne(User, { where: { id: actor.id }, select: ['id', 'name', 'email'] }) : null;
    await enqueueMail(
      m,
      this.d.clock,
      this.d.mailKey,
      await certificationRequestedEmail({
        to: c.recipientEmail,
        name: c.recipientName,
        vendorName: vendor.legalName,
        title: c.title,
        purpose: c.purpose,
        dueDate: c.dueDate,
        link,
        senderName: sender?.name ?? this.d.organizationName,
        senderEmail: sender?.email ?? null,
        organizationName: this.d.organizationName,
        rejectionReason,
      }),
    );
    return link;
  }

  /** A due date still ahead, or a fresh one when it has passed (for resending). */
  private renewedDueDate(dueDate: string): string {
    return dueDate > this.today() ? dueDate : addDays(this.today(), DEFAULT_DUE_DAYS);
  }

  /** Sends a fresh link (the old one stops working); an overdue request gets a new due date. Only while requested. */
  async resend(actor: Actor, id: number): Promise<string> {
    const link = await this.d.transact(async (m) => {
      const c = await m.findOne(Certification, { where: { id } });
      if (!c) throw new NotFoundError('No such certification.');
      if (c.status !== 'requested') throw new ConflictError(`A certification that is ${STATUS_LABELS[this.displayStatus(c)].toLowerCase()} cannot be resent.`);
      const dueDate = this.renewedDueDate(c.dueDate);
      if (dueDate !== c.dueDate) await m.update(Certification, { id: c.id }, { dueDate, updatedAt: this.d.clock.now() });
      const vendor = await m.findOneByOrFail(Vendor, { id: c.vendorId });
      const url = await this.issueLink(m, { ...c, dueDate }, vendor, actor);
      await recordAudit(m, this.d.clock, actor, { action: 'certification.resent', entityType: 'certification', entityId: c.id, changes: dueDate !== c.dueDate ? { dueDate: [c.dueDate, dueDate] } : undefined, details: { to: c.recipientEmail } });
      return url;
    });
    this.d.mailQueued();
    return link;
  }

  /** Withdraws an open request: its link answers 410 from now on. */
  async revoke(actor: Actor, id: number, reason: string): Promise<void> {
    await this.d.transact(async (m) => {
      const c = await m.findOne(Certification, { where: { id } });
      if (!c) throw new NotFoundError('No such certification.');
      if (!OPEN_STATUSES.includes(c.status)) throw new ConflictError(`A certification that is ${STATUS_LABELS[this.displayStatus(c)].toLowerCase()} cannot be withdrawn.`);
      const now = this.d.clock.now();
      await m.update(CertificationLink, { certificationId: c.id, revokedAt: IsNull() }, { revokedAt: now });
      await m.update(Certification, { id: c.id }, { status: 'revoked', revokeReason: reason, revokedAt: now, updatedAt: now });
      await recordAudit(m, this.d.clock, actor, { action: 'certification.revoked', entityType: 'certification', entityId: c.id, changes: { status: [c.status, 'revoked'] }, details: { reason } });
      await recordAudit(m, this.d.clock, actor, { action: 'vendor.certification_revoked', entityType: 'vendor', entityId: c.vendorId, details: { certificationId: c.id, title: c.title, reason } });
    });
  }

  /**
   * The certification behind a vendor link. Unknown: 404. Replaced, revoked or expired: 410, naming
   * whom to contact but never the vendor.
   */
  async resolveLink(token: string): Promise<{ certification: Certification; link: CertificationLink }> {
    const unknown = 'This certification link is not valid. Check that the whole address was copied from the email.';
    if (!/^[A-Za-z0-9_-]{40,60}$/.test(token)) throw new NotFoundError(unknown);
    const link = await this.d.ds.getRepository(CertificationLink).findOne({ where: { tokenHash: sha256Hex(token) } });
    if (!link) throw new NotFoundError(unknown);
    const c = await this.d.ds.getRepository(Certification).findOneByOrFail({ id: link.certificationId });
    const contact = await this.senderContact(c);
    if (link.revokedAt) throw new GoneError(`This certification request was withdrawn. ${contact}`);
    if (link.replacedAt) throw new GoneError(`A newer link to this certification was sent; use the most recent email. ${contact}`);
    if (this.d.clock.now() > link.expiresAt) throw new GoneError(`This link has expired. ${contact}`);
    return { certification: c, link };
  }

  private async senderContact(c: Certification): Promise<string> {
    const sender = c.requestedById ? await this.d.ds.getRepository(User).findOne({ where: { id: c.requestedById }, select: ['id', 'name', 'email'] }) : null;
    return sender ? `Please contact ${sender.name} (${sender.email}) at ${this.d.organizationName}.` : `Please contact your contact at ${this.d.organizationName}.`;
  }

  /** The actor for what a vendor does through a link. */
  vendorActor(c: Certification, link: CertificationLink, ip: string | null): Actor {
    return { type: 'vendor_link', id: null, label: `${c.recipientEmail} (certification link ${link.id})`, ip };
  }

  /** The live link of a certification (for emails after the first), or null if none can be rebuilt. */
  async currentLink(m: EntityManager, certificationId: number): Promise<string | null> {
    const link = await m.findOne(CertificationLink, { where: { certificationId, replacedAt: IsNull(), revokedAt: IsNull() }, order: { id: 'DESC' } });
    return link?.tokenEncrypted ? `${this.d.baseUrl}/c/${decryptText(this.d.linkKey, link.tokenEncrypted)}` : null;
  }

  /**
   * What currentLink() gives, for many certifications in one read per 500 (the reminder sweep's
   * batches): null where a certification has no live link with its token kept.
   */
  currentLinks(m: EntityManager, certificationIds: readonly number[]): Promise<Map<number, string | null>> {
    return liveLinkAddresses(m, CertificationLink, 'certificationId', certificationIds, this.d.linkKey, (token) => `${this.d.baseUrl}/c/${token}`);
  }

  /** The checks every vendor response starts with: still open, the text unchanged. */
  private assertRequested(c: Certification): void {
    if (c.status === 'signed') throw new ConflictError(`This certification was already signed on ${c.signedAt?.toISOString().slice(0, 10)}. A signed certification cannot be signed again or changed.`);
    if (c.status === 'uploaded') throw new ConflictError('A signed copy was already uploaded and is waiting to be confirmed.');
    if (c.status === 'declined') throw new ConflictError('This certification was declined.');
    if (c.status === 'revoked') throw new ConflictError('This certification request was withdrawn.');
  }

  /** Keeps the link open long enough for the vendor to fetch the signed copy. */
  private async keepLinkReadable(m: EntityManager, c: Certification, now: Date): Promise<void> {
    const until = new Date(now.getTime() + READ_ONLY_DAYS * DAY);
    const links = await m.find(CertificationLink, { where: { certificationId: c.id, replacedAt: IsNull(), revokedAt: IsNull() } });
    for (const l of links) if (l.expiresAt < until) await m.update(CertificationLink, { id: l.id }, { expiresAt: until });
  }

  /**
   * Signs by link: the typed signature must match the full name, the attestation must be ticked (the
   * route checks), and the page's text hash must match the stored one. Records the UTC time, address,
   * user agent and link, fixes the seal, and emails the signer and the requester, in one transaction.
   * A second signature is refused with 409.
   */
  async sign(actor: Actor, certificationId: number, link: CertificationLink, input: SignatureInput, from: SigningContext): Promise<Certification> {
    if (nameKey(input.signature) !== nameKey(input.signerName)) {
      throw new ValidationError({ signature: 'Type your full name exactly as entered above; it is your signature.' });
    }
    const signed = await this.d.transact(async (m) => {
      const c = await m.findOne(Certification, { where: { id: certificationId } });
      if (!c) throw new NotFoundError('No such certification.');
      this.assertRequested(c);
      if (input.textSha256 !== c.textSha256) throw new ConflictError('The text changed since this page was opened. Reload the page, read the text again and sign.');
      const now = this.d.clock.now();
      const next: Certification = {
        ...c,
        status: 'signed',
        method: 'link',
        signerName: input.signerName,
        signerTitle: input.signerTitle,
        signerCompany: input.signerCompany,
        signature: input.signature,
        signedAt: now,
        signedIp: from.ip?.slice(0, 64) ?? null,
        signedUserAgent: from.userAgent?.slice(0, 500) ?? null,
        signedLinkId: link.id,
        expiresOn: expiryFor(now.toISOString().slice(0, 10), c.validityMonths),
        updatedAt: now,
      };
      next.sealSha256 = sealOf(next);
      const res = await m
        .createQueryBuilder()
        .update(Certification)
        .set({
          status: next.status,
          method: next.method,
          signerName: next.signerName,
          signerTitle: next.signerTitle,
          signerCompany: next.signerCompany,
          signature: next.signature,
          signedAt: now,
          signedIp: next.signedIp,
          signedUserAgent: next.signedUserAgent,
          signedLinkId: next.signedLinkId,
          expiresOn: next.expiresOn,
          sealSha256: next.sealSha256,
          updatedAt: now,
        })
        .where("id = :id AND status = 'requested'", { id: c.id })
        .execute();
      // Two signatures at the same moment: only the first update finds the row still requested.
      if (!res.affected) throw new ConflictError('This certification was already signed. A signed certification cannot be signed again or changed.');
      await this.keepLinkReadable(m, c, now);
      await recordAudit(m, this.d.clock, actor, {
        action: 'certification.signed',
        entityType: 'certification',
        entityId: c.id,
        changes: { status: [c.status, 'signed'] },
        details: { method: 'link', signerName: next.signerName, signerTitle: next.signerTitle, signerCompany: next.signerCompany, textSha256: c.textSha256, sealSha256: next.sealSha256, linkId: link.id, userAgent: next.signedUserAgent, expiresOn: next.expiresOn },
      });
      await recordAudit(m, this.d.clock, actor, { action: 'vendor.certification_signed', entityType: 'vendor', entityId: c.vendorId, details: { certificationId: c.id, title: c.title, signerName: next.signerName, expiresOn: next.expiresOn } });
      await this.notify(m, next, 'signed', now, next.signerName!, null);
      return next;
    });
    this.d.mailQueued();
    return signed;
  }

  /**
   * The paper alternative: the vendor uploads the certification signed on paper as a PDF (decided by
   * content). Stored encrypted; it counts as signed once staff confirm it.
   */
  async upload(actor: Actor, certificationId: number, link: CertificationLink, signer: SignerDetails, file: { originalName: string; buffer: Buffer }, from: SigningContext): Promise<Certification> {
    if (detectType(file.buffer, file.originalName) !== 'application/pdf') {
      throw new ValidationError({ file: `“${sanitizeFileName(file.originalName)}” is not a PDF${file.buffer.length === 0 ? ' (the file is empty)' : ''}. Upload the signed certification as a PDF (its content decides, not its name).` });
    }
    const stored = await this.d.evidence.put(file.buffer);
    try {
      const result = await this.d.transact(async (m) => {
        const c = await m.findOne(Certification, { where: { id: certificationId } });
        if (!c) throw new NotFoundError('No such certification.');
        this.assertRequested(c);
        const now = this.d.clock.now();
        const fileName = sanitizeFileName(file.originalName);
        const changes = {
          status: 'uploaded' as const,
          method: 'upload' as const,
          signerName: signer.signerName,
          signerTitle: signer.signerTitle,
          signerCompany: signer.signerCompany,
          signature: null,
          signedAt: now,
          signedIp: from.ip?.slice(0, 64) ?? null,
          signedUserAgent: from.userAgent?.slice(0, 500) ?? null,
          signedLinkId: link.id,
          fileName,
          storedName: stored.storedName,
          fileSize: file.buffer.length,
          fileSha256: stored.sha256,
          updatedAt: now,
        };
        const res = await m.createQueryBuilder().update(Certification).set(changes).where("id = :id AND status = 'requested'", { id: c.id }).execute();
        if (!res.affected) throw new ConflictError('This certification is no longer waiting for a signature.');
        await this.keepLinkReadable(m, c, now);
        await recordAudit(m, this.d.clock, actor, {
          action: 'certification.uploaded',
          entityType: 'certification',
          entityId: c.id,
          changes: { status: [c.status, 'uploaded'] },
          details: { signerName: signer.signerName, signerTitle: signer.signerTitle, signerCompany: signer.signerCompany, fileName, size: file.buffer.length, fileSha256: stored.sha256, linkId: link.id },
        });
        const next = { ...c, ...changes };
        await this.notify(m, next, 'uploaded', now, signer.signerName, null);
        return next;
      });
      this.d.mailQueued();
      return result;
    } catch (err) {
      await this.d.evidence.remove(stored.storedName);
      throw err;
    }
  }

  /** The vendor declines to sign, with a reason; the request is closed. */
  async decline(actor: Actor, certificationId: number, link: CertificationLink, input: { name: string; reason: string }, from: SigningContext): Promise<Certification> {
    const result = await this.d.transact(async (m) => {
      const c = await m.findOne(Certification, { where: { id: certificationId } });
      if (!c) throw new NotFoundError('No such certification.');
      this.assertRequested(c);
      const now = this.d.clock.now();
      const changes = { status: 'declined' as const, signerName: input.name, declineReason: input.reason, declinedAt: now, signedIp: from.ip?.slice(0, 64) ?? null, signedUserAgent: from.userAgent?.slice(0, 500) ?? null, signedLinkId: link.id, updatedAt: now };
      const res = await m.createQueryBuilder().update(Certification).set(changes).where("id = :id AND status = 'requested'", { id: c.id }).execute();
      if (!res.affected) throw new ConflictError('This certification is no longer waiting for a signature.');
      await this.keepLinkReadable(m, c, now);
      await recordAudit(m, this.d.clock, actor, { action: 'certification.declined', entityType: 'certification', entityId: c.id, changes: { status: [c.status, 'declined'] }, details: { name: input.name, reason: input.reason, linkId: link.id } });
      await recordAudit(m, this.d.clock, actor, { action: 'vendor.certification_declined', entityType: 'vendor', entityId: c.vendorId, details: { certificationId: c.id, title: c.title, reason: input.reason } });
      const next = { ...c, ...changes };
      await this.notify(m, next, 'declined', now, input.name, input.reason);
      return next;
    });
    this.d.mailQueued();
    return result;
  }

  /** Emails the vendor contact a receipt and the person who asked a note, in the caller's transaction. */
  private async notify(m: EntityManager, c: Certification, event: 'signed' | 'uploaded' | 'declined', at: Date, signerName: string, reason: string | null): Promise<void> {
    const vendor = await m.findOneByOrFail(Vendor, { id: c.vendorId });
    const requester = c.requestedById ? await m.findOne(User, { where: { id: c.requestedById } }) : null;
    const recipients = [{ to: c.recipientEmail, name: c.recipientName, staff: false }];
    if (requester?.active) recipients.push({ to: requester.email, name: requester.name, staff: true });
    for (const r of recipients) {
      await enqueueMail(
        m,
        this.d.clock,
        this.d.mailKey,
        await certificationResponseEmail({
          ...r,
          event,
          vendorName: vendor.legalName,
          title: c.title,
          at,
          signerName,
          textSha256: c.textSha256,
          reason,
          staffLink: `${this.d.baseUrl}/certifications/${c.id}`,
          organizationName: this.d.organizationName,
        }),
      );
    }
  }

  /** Staff accept an uploaded signed PDF: the certification becomes signed from the upload's time, and is sealed. */
  async confirmUpload(actor: Actor, id: number): Promise<Certification> {
    return this.d.transact(async (m) => {
      const c = await m.findOne(Certification, { where: { id } });
      if (!c) throw new NotFoundError('No such certification.');
      if (c.status !== 'uploaded' || !c.signedAt) throw new ConflictError('Only an uploaded signed copy waiting for confirmation can be confirmed.');
      const now = this.d.clock.now();
      const next: Certification = { ...c, status: 'signed', confirmedById: actor.id, confirmedAt: now, expiresOn: expiryFor(c.signedAt.toISOString().slice(0, 10), c.validityMonths), updatedAt: now };
      next.sealSha256 = sealOf(next);
      const res = await m
        .createQueryBuilder()
        .update(Certification)
        .set({ status: 'signed', confirmedById: next.confirmedById, confirmedAt: now, expiresOn: next.expiresOn, sealSha256: next.sealSha256, updatedAt: now })
        .where("id = :id AND status = 'uploaded'", { id: c.id })
        .execute();
      if (!res.affected) throw new ConflictError('This upload was confirmed or refused meanwhile.');
      await recordAudit(m, this.d.clock, actor, { action: 'certification.confirmed', entityType: 'certification', entityId: c.id, changes: { status: ['uploaded', 'signed'] }, details: { fileSha256: c.fileSha256, sealSha256: next.sealSha256, expiresOn: next.expiresOn } });
      await recordAudit(m, this.d.clock, actor, { action: 'vendor.certification_signed', entityType: 'vendor', entityId: c.vendorId, details: { certificationId: c.id, title: c.title, signerName: c.signerName, method: 'upload', expiresOn: next.expiresOn } });
      return next;
    });
  }

  /**
   * Staff refuse an uploaded PDF (wrong document, unsigned): the request opens again with a new link,
   * the vendor is told why, and the file is removed (its name and SHA-256 stay in the audit trail).
   */
  async rejectUpload(actor: Actor, id: number, reason: string): Promise<void> {
    const storedName = await this.d.transact(async (m) => {
      const c = await m.findOne(Certification, { where: { id } });
      if (!c) throw new NotFoundError('No such certification.');
      if (c.status !== 'uploaded') throw new ConflictError('Only an uploaded signed copy waiting for confirmation can be refused.');
      const now = this.d.clock.now();
      const dueDate = this.renewedDueDate(c.dueDate);
      const cleared = { status: 'requested' as const, method: null, signerName: null, signerTitle: null, signerCompany: null, signature: null, signedAt: null, signedIp: null, signedUserAgent: null, signedLinkId: null, fileName: null, storedName: null, fileSize: null, fileSha256: null, dueDate, updatedAt: now };
      const res = await m.createQueryBuilder().update(Certification).set(cleared).where("id = :id AND status = 'uploaded'", { id: c.id }).execute();
      if (!res.affected) throw new ConflictError('This upload was confirmed or refused meanwhile.');
      await recordAudit(m, this.d.clock, actor, {
        action: 'certification.upload_refused',
        entityType: 'certification',
        entityId: c.id,
        changes: { status: ['uploaded', 'requested'], ...(dueDate !== c.dueDate ? { dueDate: [c.dueDate, dueDate] } : {}) },
        details: { reason, fileName: c.fileName, fileSha256: c.fileSha256, signerName: c.signerName },
      });
      const vendor = await m.findOneByOrFail(Vendor, { id: c.vendorId });
      await this.issueLink(m, { ...c, ...cleared }, vendor, actor, reason);
      return c.storedName;
    });
    if (storedName) await this.d.evidence.remove(storedName);
    this.d.mailQueued();
  }

  /**
   * Recomputes the SHA-256 of the stored text, the seal over the signature and, for an uploaded PDF,
   * the SHA-256 of the decrypted file, and compares each with what was fixed at signing. With an
   * actor, the check is written to the audit trail.
   */
  async verify(actor: Actor | null, id: number): Promise<Verification> {
    const c = await this.get(id);
    const computedText = textHash(c.title, c.statement);
    const text = { stored: c.textSha256, computed: computedText, ok: computedText === c.textSha256 };
    const seal = c.status === 'signed' ? { stored: c.sealSha256, computed: sealOf(c), ok: c.sealSha256 === sealOf(c) } : null;
    let file: Verification['file'] = null;
    if (c.storedName && c.fileSha256) {
      let computed: string | null = null;
      try {
        computed = await this.hashStoredFile(c.storedName);
      } catch {
        computed = null;
      }
      file = { stored: c.fileSha256, computed, ok: computed === c.fileSha256 };
    }
    const result: Verification = { ok: text.ok && (seal?.ok ?? true) && (file?.ok ?? true), checkedAt: this.d.clock.now(), text, seal, file };
    if (actor) {
      await this.d.transact((m) =>
        recordAudit(m, this.d.clock, actor, {
          action: result.ok ? 'certification.verified' : 'certification.verification_failed',
          entityType: 'certification',
          entityId: c.id,
          details: { ok: result.ok, text: text.ok, seal: seal?.ok ?? null, file: file?.ok ?? null, computedTextSha256: computedText },
        }),
      );
    }
    return result;
  }

  private async hashStoredFile(storedName: string): Promise<string> {
    const hash = crypto.createHash('sha256');
    await this.d.evidence.pipeTo(
      storedName,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          cb();
        },
      }),
    );
    return hash.digest('hex');
  }

  /** When the vendor last moved into offboarding through Oversight (from its audit trail), or null. */
  private async enteredOffboardingAt(m: EntityManager, vendorId: number): Promise<Date | null> {
    const moves = await m.find(AuditEntry, { where: { entityType: 'vendor', entityId: String(vendorId), action: 'vendor.status_changed' }, order: { at: 'DESC', id: 'DESC' }, select: ['id', 'at', 'changes'] });
    for (const e of moves) if (Array.isArray(e.changes?.status) && e.changes.status[1] === 'offboarding') return e.at;
    return null;
  }

  /**
   * The disposal certificate of the current offboarding: one signed since the vendor last moved to
   * offboarding (any signed one when it never moved there through Oversight), and any open request.
   */
  async disposalState(
    vendorId: number,
    m: EntityManager = this.d.ds.manager,
    /** The vendor's certifications (as forVendor or listRowsForVendor reads them), when the caller has them already. */
    all?: CertificationListRow[],
  ): Promise<{ signed: CertificationListRow | null; open: CertificationListRow | null; since: Date | null }> {
    const wanted: CertificationStatus[] = ['requested', 'uploaded', 'signed'];
    const [since, certs] = await Promise.all([
      this.enteredOffboardingAt(m, vendorId),
      all
        ? all.filter((c) => c.vendorId === vendorId && c.purpose === 'disposal' && wanted.includes(c.status))
        : m.find(Certification, { where: { vendorId, purpose: 'disposal', status: In(wanted) }, order: { requestedAt: 'DESC', id: 'DESC' } }),
    ]);
    const signed = certs.find((c) => c.status === 'signed' && c.signedAt && (!since || c.signedAt >= since)) ?? null;
    const open = certs.find((c) => OPEN_STATUSES.includes(c.status)) ?? null;
    return { signed, open, since };
  }

  /**
   * The gate on termination: a vendor in scope that is offboarding moves to terminated only with a
   * signed disposal certificate, or when an administrator overrides (the move's reason is recorded).
   * Returns details for the move's audit entry.
   */
  async checkTransition(m: EntityManager, v: Vendor, to: VendorStatus, opts: TransitionOptions): Promise<Record<string, unknown>> {
    if (to !== 'terminated' || v.status !== 'offboarding' || !v.inScope) return {};
    const { signed } = await this.disposalState(v.id, m);
    if (signed) return { disposalCertificationId: signed.id };
    if (opts.adminOverride) return { overrideOfMissingDisposalCertificate: true };
    const message = 'This vendor cannot be terminated before it signs the certificate of return or disposal of personal information (M.G.L. c.93I; clause CL-DISP). An administrator can override this with a reason.';
    throw new ConflictError(message, { to: message });
  }

  /**
   * What follows a move: entering offboarding requests the disposal certificate from the security
   * contact (unless one is already open), in the move's transaction. Without a security contact or a
   * valid template nothing is sent; the vendor page says one must be requested.
   */
  async afterTransition(m: EntityManager, actor: Actor, v: Vendor, from: VendorStatus): Promise<void> {
    if (v.status !== 'offboarding' || from === 'offboarding' || !v.inScope) return;
    const template = this.d.templates.forPurpose('disposal');
    if (!template) return;
    const open = await m.count(Certification, { where: { vendorId: v.id, purpose: 'disposal', status: In(OPEN_STATUSES) } });
    if (open > 0) return;
    const contact = await m.findOne(VendorContact, { where: { vendorId: v.id, isSecurityContact: true } });
    if (!contact) return;
    await this.requestIn(m, actor, { vendorId: v.id, contactId: contact.id, templateId: template.id });
  }
}
