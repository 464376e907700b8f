import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Actor } from '../../server/audit/service';
import { systemActor } from '../../server/audit/service';
import { OutboxMessage } from '../../server/mail/entities';
import type { TestApp } from './app';
import { type Agent, makeUser, makeVendor, signIn } from './http';
import { PDF, saveSection, submitAnswers, TEST_TEMPLATE } from './portal';

/** A folder holding the test questionnaire template, for createTestApp({ templatesDir }). */
export function testTemplatesDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
  fs.writeFileSync(path.join(dir, 'test-dd.yaml'), TEST_TEMPLATE);
  return dir;
}

/** One of everything a route may name, all belonging to one vendor, with an admin signed in. */
export interface World {
  admin: Agent;
  adminId: number;
  actor: Actor;
  /** A bearer token of the admin for /api/v1. */
  bearer: string;
  apiTokenId: number;
  vendorId: number;
  contactId: number;
  subprocessorId: number;
  /** Sent and still open, with its link token. */
  openQuestionnaireId: number;
  qToken: string;
  /** Answered and submitted, waiting for review. */
  submittedQuestionnaireId: number;
  /** Requested and open, with its link token. */
  openCertificationId: number;
  cToken: string;
  /** Signed on paper and uploaded, waiting for confirmation. */
  uploadedCertificationId: number;
  contractId: number;
  clauseId: string;
  amendmentId: number;
  findingId: number;
  /** Another user, for the user administration routes. */
  otherUserId: number;
  /** A pending password link token of the other user. */
  passwordToken: string;
  importId: number;
  outboxId: number;
}

let worldSeq = 0;

/** The admin of a world, signed in; a new world may reuse it (signing in costs a password hash). */
export type WorldAdmin = Pick<World, 'admin' | 'adminId' | 'actor' | 'apiTokenId'>;

/**
 * Seeds a fresh world through the services (and the portal for the submitted questionnaire), with
 * a new admin, or with the given one still signed in (its old API token revoked).
 */
export async function seedWorld(t: TestApp, signedIn?: WorldAdmin): Promise<World> {
  worldSeq += 1;
  let agent: Agent;
  let actor: Actor;
  let adminId: number;
  if (signedIn) {
    ({ admin: agent, actor, adminId } = signedIn);
    // An admin holds a limited number of tokens; the old world's goes (unless a route revoked it already).
    if ((await t.ctx.apiTokens.list(adminId)).some((k) => k.id === signedIn.apiTokenId && !k.revokedAt)) await t.ctx.apiTokens.revoke(actor, signedIn.apiTokenId);
  } else {
    const admin = await makeUser(t, 'admin');
    actor = { type: 'user', id: admin.user.id, label: admin.email, ip: null };
    agent = await signIn(t.app, admin.email, admin.password);
    adminId = admin.user.id;
  }
  const { token: bearer, record } = await t.ctx.apiTokens.create(actor, `script ${worldSeq}`);
  const vendor = await makeVendor(t, { status: 'active' });
  const contact = await t.ctx.vendors.addContact(actor, vendor.id, { name: 'Vic Vendor', email: `vic${worldSeq}@vendor.example`, isSecurityContact: true });
  const sub = await t.ctx.vendors.addSubprocessor(actor, vendor.id, { name: 'Cloud Host', purpose: 'Hosting', location: 'US' });

  const open = await t.ctx.questionnaires.send(actor, { vendorId: vendor.id, contactId: contact.id, templateId: 'test-dd', dueDate: '2026-04-01' });
  const answered = await t.ctx.questionnaires.send(actor, { vendorId: vendor.id, contactId: contact.id, templateId: 'test-dd', dueDate: '2026-04-01' });
  const answeredBase = new URL(answered.link).pathname;
  await saveSection(t.app, answeredBase, 'program', { wisp: 'yes', trained: '95' }, { files: [{ questionId: 'wisp_doc', name: 'wisp.pdf', content: PDF }] });
  await saveSection(t.app, answeredBase, 'incidents', { incident: 'no' });
  assert.equal((await submitAnswers(t.app, answeredBase)).status, 303, 'the seeded questionnaire is submitted');

  const cert = await t.ctx.certifications.request(actor, { vendorId: vendor.id, contactId: contact.id, templateId: 'annual-security' });
  const uploaded = await t.ctx.certifications.request(actor, { vendorId: vendor.id, contactId: contact.id, templateId: 'disposal' });
  const { link: upLink } = await t.ctx.certifications.resolveLink(uploaded.link.split('/').pop()!);
  await t.ctx.certifications.upload({ type: 'vendor_link', id: null, label: 'vendor', ip: null }, uploaded.certification.id, upLink, { signerName: 'Vic Vendor', signerTitle: 'CISO', signerCompany: 'Acme' }, { originalName: 'signed.pdf', buffer: PDF }, { ip: null, userAgent: null });

  const contract = await t.ctx.contracts.create(actor, vendor.id, { title: 'Master Services Agreement', type: 'msa', status: 'active', effectiveOn: '2024-01-01', expiresOn: null, signedOn: null, autoRenews: false, noticeDays: null, amendsId: null, notes: null }, { originalName: 'signed-msa.pdf', buffer: PDF });
  await t.ctx.contracts.reviewClauses(actor, contract.id, [{ clauseId: 'CL-BRN', review: { status: 'missing', reference: null, note: null } }]);
  const eligible = await t.ctx.amendments.eligibleItems(vendor.id);
  assert.ok(eligible.length > 0, 'the contract has clauses that can be amended');
  const amendment = await t.ctx.amendments.open(actor, vendor.id, { title: 'Add breach notice', items: [{ contractId: eligible[0]!.contract.id, clauseId: eligible[0]!.clause.id }] });
  const finding = await t.ctx.findings.create(actor, vendor.id, { title: 'No MFA on the payroll console', severity: 'high', citation: '201 CMR 17.04(1)', remediatedBy: 'vendor', dueDate: '2026-05-01' });

  const other = await makeUser(t, 'viewer');
  const { link: pwLink } = await t.ctx.accounts.issuePasswordLink(actor, other.user.id);
  const staged = await t.ctx.vendorImports.preview(actor, 'vendors.csv', Buffer.from(`legal_name,status\nImported Co ${worldSeq} ${Date.now()},prospect\n`));
  assert.ok(staged.importId, 'the seeded import is staged');
  const outbox = await t.ctx.ds.getRepository(OutboxMessage).find({ order: { id: 'DESC' }, take: 1 });

  return {
    admin: agent,
    adminId,
    actor,
    bearer,
    apiTokenId: record.id,
    vendorId: vendor.id,
    contactId: contact.id,
    subprocessorId: sub.id,
    openQuestionnaireId: open.questionnaire.id,
    qToken: open.link.split('/').pop()!,
    submittedQuestionnaireId: answered.questionnaire.id,
    openCertificationId: cert.certification.id,
    cToken: cert.link.split('/').pop()!,
    uploadedCertificationId: uploaded.certification.id,
    contractId: contract.id,
    clauseId: eligible[0]!.clause.id,
    amendmentId: amendment.id,
    findingId: finding.id,
    otherUserId: other.user.id,
    passwordToken: pwLink.split('/').pop()!,
    importId: staged.importId!,
    outboxId: outbox[0]!.id,
  };
}

/** The route pattern with its parameters filled from the world. */
export function fillPath(pattern: string, w: World): string {
  const idFor = (p: string): number => {
    if (p.startsWith('/api/v1/vendors/') || p.startsWith('/vendors/')) return w.vendorId;
    if (/^(\/api\/v1)?\/questionnaires\/:id\/(review|decision|clarifications)/.test(p)) return w.submittedQuestionnaireId;
    if (/questionnaires\/:id/.test(p)) return w.openQuestionnaireId;
    if (/certifications\/:id\/(confirm|reject-upload)/.test(p)) return w.uploadedCertificationId;
    if (/certifications\/:id/.test(p)) return w.openCertificationId;
    if (/amendments\/:id/.test(p)) return w.amendmentId;
    if (/contracts\/:id/.test(p)) return w.contractId;
    if (/findings\/:id/.test(p)) return w.findingId;
    if (/admin\/users\/:id/.test(p)) return w.otherUserId;
    if (/admin\/outbox\/:id/.test(p)) return w.outboxId;
    return w.vendorId;
  };
  return pattern
    .replace(':id', String(idFor(pattern)))
    .replace(':contactId', String(w.contactId))
    .replace(':subId', String(w.subprocessorId))
    .replace(':clauseId', w.clauseId)
    .replace(':tokenId', String(w.apiTokenId))
    .replace(':importId', String(w.importId))
    .replace(':sectionId', 'program')
    .replace(':token', pattern.startsWith('/q/') ? w.qToken : pattern.startsWith('/c/') ? w.cToken : w.passwordToken);
}

/** The form token of a vendor link page (questionnaire or certification), taken from its forms. */
export async function linkFormToken(t: TestApp, pagePath: string): Promise<string> {
  const page = await request(t.app).get(pagePath);
  const m = /_csrf(?:=|" value=")([A-Za-z0-9_-]+)/.exec(page.text);
  assert.ok(m, `${pagePath} has a form token (${page.status})`);
  return m[1]!;
}

export { systemActor };
