import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import request, { type Response } from 'supertest';
import { ROLES, type Role } from '../server/accounts/entities';
import { AuditEntry } from '../server/audit/entities';
import { type Actor, systemActor } from '../server/audit/service';
import { ContractFile } from '../server/contracts/entities';
import { MINUTE } from '../server/clock';
import { OutboxMessage } from '../server/mail/entities';
import { EvidenceFile } from '../server/questionnaires/entities';
import { CalendarFeeds } from '../server/reminders/calendar';
import { createTestApp, type TestApp } from './helpers/app';
import { type Agent, csrfFrom, GOOD_PASSWORD, makeUser, makeVendor, signIn } from './helpers/http';
import { PDF, saveSection, TEST_TEMPLATE } from './helpers/portal';
import { routeTable } from './helpers/routes';

// ---- The policy: who may use each route -------------------------------------------------------

/**
 * Who may use a route. `staff`: signed-in users of these roles (session cookie); `api`: bearer
 * tokens of users of these roles; `link`: whoever holds the secret in the address, whatever else
 * they hold; `public`: anyone.
 */
type Rule =
  | { kind: 'public' }
  | { kind: 'staff'; roles: readonly Role[] }
  | { kind: 'api'; roles: readonly Role[] }
  | { kind: 'link'; link: 'questionnaire' | 'certification' | 'calendar' | 'password' | 'setup' };

const PUBLIC: Rule = { kind: 'public' };
const staff = (...roles: Role[]): Rule => ({ kind: 'staff', roles: roles.length ? roles : ROLES });
const api = (...roles: Role[]): Rule => ({ kind: 'api', roles: roles.length ? roles : ROLES });
const link = (kind: Extract<Rule, { kind: 'link' }>['link']): Rule => ({ kind: 'link', link: kind });

/** Every route of the app, from the README's role table and the routes themselves. No arguments: every role. */
const POLICY: Record<string, Rule> = {
  'GET /favicon.ico': PUBLIC,
  'GET /healthz': PUBLIC,
  'GET /api/v1/openapi.json': PUBLIC,
  'GET /api/v1/vendors': api(),
  'POST /api/v1/vendors': api('admin', 'procurement'),
  'GET /api/v1/vendors/:id': api(),
  'PATCH /api/v1/vendors/:id': api('admin', 'procurement'),
  'POST /api/v1/vendors/:id/status': api('admin', 'procurement'),
  'GET /api/v1/vendors/:id/contacts': api(),
  'POST /api/v1/vendors/:id/contacts': api('admin', 'procurement'),
  'PATCH /api/v1/vendors/:id/contacts/:contactId': api('admin', 'procurement'),
  'DELETE /api/v1/vendors/:id/contacts/:contactId': api('admin', 'procurement'),
  'GET /api/v1/vendors/:id/questionnaires': api(),
  'POST /api/v1/vendors/:id/questionnaires': api('admin', 'procurement'),
  'GET /api/v1/questionnaires/:id': api(),
  'POST /api/v1/questionnaires/:id/review': api('admin', 'reviewer'),
  'POST /api/v1/questionnaires/:id/clarifications': api('admin', 'reviewer'),
  'POST /api/v1/questionnaires/:id/decision': api('admin', 'reviewer'),
  'GET /api/v1/findings': api(),
  'POST /api/v1/vendors/:id/findings': api('admin', 'reviewer'),
  'GET /api/v1/findings/:id': api(),
  'PATCH /api/v1/findings/:id': api('admin', 'reviewer'),
  'POST /api/v1/findings/:id/status': api('admin', 'reviewer'),
  'POST /api/v1/findings/:id/accept-risk': api('admin', 'reviewer'),
  'GET /api/v1/contracts': api(),
  'GET /api/v1/vendors/:id/contracts': api(),
  'POST /api/v1/vendors/:id/contracts': api('admin', 'legal'),
  'GET /api/v1/contracts/:id': api(),
  'PATCH /api/v1/contracts/:id': api('admin', 'legal'),
  'PUT /api/v1/contracts/:id/clauses/:clauseId': api('admin', 'legal'),
  'POST /api/v1/contracts/:id/document': api('admin', 'legal'),
  'GET /api/v1/vendors/:id/coverage': api(),
  'GET /api/v1/coverage': api(),
  'GET /api/v1/amendments': api(),
  'POST /api/v1/vendors/:id/amendments': api('admin', 'legal'),
  'GET /api/v1/amendments/:id': api(),
  'PATCH /api/v1/amendments/:id': api('admin', 'legal'),
  'POST /api/v1/amendments/:id/status': api('admin', 'legal'),
  'POST /api/v1/amendments/:id/execute': api('admin', 'legal'),
  'POST /api/v1/amendments/:id/comments': api('admin', 'legal'),
  'GET /api/v1/certifications': api(),
  'GET /api/v1/vendors/:id/certifications': api(),
  'POST /api/v1/vendors/:id/certifications': api('admin', 'legal'),
  'GET /api/v1/certifications/:id': api(),
  'POST /api/v1/certifications/:id/verify': api(),
  'POST /api/v1/certifications/:id/resend': api('admin', 'legal'),
  'POST /api/v1/certifications/:id/revoke': api('admin', 'legal'),
  'POST /api/v1/certifications/:id/confirm': api('admin', 'legal', 'reviewer'),
  'GET /q/:token': link('questionnaire'),
  'GET /q/:token/s/:sectionId': link('questionnaire'),
  'POST /q/:token/s/:sectionId': link('questionnaire'),
  'GET /q/:token/review': link('questionnaire'),
  'POST /q/:token/submit': link('questionnaire'),
  'GET /q/:token/done': link('questionnaire'),
  'GET /c/:token': link('certification'),
  'POST /c/:token/sign': link('certification'),
  'POST /c/:token/upload': link('certification'),
  'POST /c/:token/decline': link('certification'),
  'GET /c/:token/certificate.pdf': link('certification'),
  'GET /calendar/:file': link('calendar'),
  'GET /login': PUBLIC,
  'POST /login': PUBLIC,
  'POST /logout': PUBLIC,
  'GET /setup': link('setup'),
  'POST /setup': link('setup'),
  'GET /set-password/:token': link('password'),
  'POST /set-password/:token': link('password'),
  'GET /account': staff(),
  'GET /account/password': staff(),
  'POST /account/password': staff(),
  'GET /account/tokens': staff(),
  'POST /account/tokens': staff(),
  'POST /account/tokens/:tokenId/revoke': staff(),
  'GET /': staff(),
  'GET /vendors/:id/questionnaires/new': staff('admin', 'procurement'),
  'POST /vendors/:id/questionnaires/new': staff('admin', 'procurement'),
  'GET /questionnaires': staff(),
  'GET /questionnaires.csv': staff(),
  'GET /questionnaires/:id': staff(),
  'GET /questionnaires/:id/files/:fileId': staff(),
  'POST /questionnaires/:id/resend': staff('admin', 'procurement'),
  'POST /questionnaires/:id/revoke': staff('admin', 'procurement'),
  'POST /questionnaires/:id/extend': staff('admin', 'procurement'),
  'GET /admin/templates': staff('admin', 'procurement', 'reviewer', 'viewer'),
  'POST /admin/templates/reload': staff('admin'),
  'GET /admin/templates/:templateId': staff('admin', 'procurement', 'reviewer', 'viewer'),
  'GET /questionnaires/:id/review': staff('admin', 'reviewer'),
  'POST /questionnaires/:id/review': staff('admin', 'reviewer'),
  'POST /questionnaires/:id/decision': staff('admin', 'reviewer'),
  'GET /findings': staff(),
  'GET /findings.csv': staff(),
  'GET /vendors/:id/findings/new': staff('admin', 'reviewer'),
  'POST /vendors/:id/findings/new': staff('admin', 'reviewer'),
  'GET /findings/:id': staff(),
  'POST /findings/:id': staff('admin', 'reviewer'),
  'POST /findings/:id/status': staff('admin', 'reviewer'),
  'POST /findings/:id/accept-risk': staff('admin', 'reviewer'),
  'GET /contracts': staff(),
  'GET /contracts.csv': staff(),
  'GET /contracts/matrix': staff(),
  'GET /contracts/matrix.csv': staff(),
  'GET /contracts/amendments': staff(),
  'GET /contracts/amendments.csv': staff(),
  'GET /vendors/:id/amendments/new': staff('admin', 'legal'),
  'POST /vendors/:id/amendments/new': staff('admin', 'legal'),
  'GET /contracts/amendments/:id': staff(),
  'POST /contracts/amendments/:id': staff('admin', 'legal'),
  'POST /contracts/amendments/:id/status': staff('admin', 'legal'),
  'POST /contracts/amendments/:id/execute': staff('admin', 'legal'),
  'POST /contracts/amendments/:id/comments': staff('admin', 'legal'),
  'POST /contracts/amendments/:id/files': staff('admin', 'legal'),
  'GET /contracts/amendments/:id/files/:fileId': staff(),
  'GET /vendors/:id/contracts/new': staff('admin', 'legal'),
  'POST /vendors/:id/contracts/new': staff('admin', 'legal'),
  'GET /vendors/:id/coverage': staff(),
  'GET /contracts/:id': staff(),
  'POST /contracts/:id': staff('admin', 'legal'),
  'POST /contracts/:id/clauses': staff('admin', 'legal'),
  'POST /contracts/:id/document': staff('admin', 'legal'),
  'GET /contracts/:id/files/:fileId': staff(),
  'GET /admin/clauses': staff('admin', 'legal', 'viewer'),
  'POST /admin/clauses/reload': staff('admin'),
  'GET /certifications': staff(),
  'GET /certifications.csv': staff(),
  'GET /certifications/templates': staff(),
  'POST /certifications/templates/reload': staff('admin'),
  'GET /vendors/:id/certifications/new': staff('admin', 'legal'),
  'POST /vendors/:id/certifications/new': staff('admin', 'legal'),
  'GET /certifications/:id': staff(),
  'POST /certifications/:id/verify': staff(),
  'GET /certifications/:id/certificate': staff(),
  'GET /certifications/:id/certificate.pdf': staff(),
  'GET /certifications/:id/file': staff(),
  'POST /certifications/:id/resend': staff('admin', 'legal'),
  'POST /certifications/:id/revoke': staff('admin', 'legal'),
  'POST /certifications/:id/confirm': staff('admin', 'legal', 'reviewer'),
  'POST /certifications/:id/reject-upload': staff('admin', 'legal', 'reviewer'),
  'GET /reminders': staff(),
  'GET /vendors/:id/reminders': staff(),
  'GET /admin/reminders': staff('admin'),
  'POST /admin/reminders/run': staff('admin'),
  'GET /account/reminders': staff(),
  'POST /account/reminders': staff(),
  'POST /account/calendar': staff(),
  'POST /account/calendar/revoke': staff(),
  'GET /reports': staff(),
  'GET /reports/portfolio.csv': staff(),
  'GET /reports/portfolio.pdf': staff(),
  'GET /vendors/:id/oversight-record.zip': staff(),
  'GET /vendors': staff(),
  'GET /vendors/export.csv': staff(),
  'GET /vendors/new': staff('admin', 'procurement'),
  'POST /vendors/new': staff('admin', 'procurement'),
  'GET /vendors/import': staff('admin', 'procurement'),
  'POST /vendors/import': staff('admin', 'procurement'),
  'POST /vendors/import/:importId/commit': staff('admin', 'procurement'),
  'POST /vendors/import/:importId/discard': staff('admin', 'procurement'),
  'GET /vendors/:id': staff(),
  'GET /vendors/:id/edit': staff('admin', 'procurement'),
  'POST /vendors/:id/edit': staff('admin', 'procurement'),
  'POST /vendors/:id/status': staff('admin', 'procurement'),
  'POST /vendors/:id/tier': staff('admin', 'reviewer'),
  'POST /vendors/:id/tier/clear': staff('admin', 'reviewer'),
  'POST /vendors/:id/contacts': staff('admin', 'procurement'),
  'POST /vendors/:id/contacts/:contactId/security': staff('admin', 'procurement'),
  'POST /vendors/:id/contacts/:contactId/delete': staff('admin', 'procurement'),
  'POST /vendors/:id/subprocessors': staff('admin', 'procurement'),
  'POST /vendors/:id/subprocessors/:subId/delete': staff('admin', 'procurement'),
  'GET /admin/users': staff('admin'),
  'GET /admin/users/new': staff('admin'),
  'POST /admin/users/new': staff('admin'),
  'GET /admin/users/:id': staff('admin'),
  'POST /admin/users/:id': staff('admin'),
  'POST /admin/users/:id/deactivate': staff('admin'),
  'POST /admin/users/:id/reactivate': staff('admin'),
  'POST /admin/users/:id/unlock': staff('admin'),
  'POST /admin/users/:id/password-link': staff('admin'),
  'GET /admin/audit': staff('admin', 'viewer'),
  'GET /admin/audit/export.csv': staff('admin', 'viewer'),
  'GET /admin/outbox': staff('admin'),
  'GET /admin/outbox/:id': staff('admin'),
  'POST /admin/outbox/:id/resend': staff('admin'),
};

/** Vendor B's questionnaire: the same questions under other section ids, and one question only B has. */
const B_ONLY_QUESTION = 'Bravo-only question about the data register';
const OTHER_TEMPLATE = TEST_TEMPLATE.replace('id: test-dd', 'id: other-dd')
  .replace('title: Test due diligence', 'title: Other due diligence')
  .replace('id: program', 'id: governance')
  .replace('id: incidents', 'id: breaches')
  .replace('What share of staff completed security training this year (percent)?', B_ONLY_QUESTION);

const CSRF_MESSAGE = /This form has expired or did not come from Oversight/;
const NOT_A_TOKEN = 'Zz9_'.repeat(11);

// ---- The world: real records for every parameter -----------------------------------------------

interface LinkSet {
  q: string;
  c: string;
  calendar: string;
  password: string;
}

interface VendorSide {
  vendorId: number;
  legalName: string;
  contactId: number;
  spareContactId: number;
  subId: number;
  questionnaireId: number;
  questionnaireToken: string;
  /** The questionnaire's form token (HMAC of the link), as its pages carry it. */
  questionnaireForm: string;
  evidenceFileId: number;
  evidenceFileName: string;
  certificationId: number;
  certificationToken: string;
  certificationForm: string;
}

interface World {
  users: Record<Role, { id: number; email: string }>;
  apiTokens: Record<Role, string>;
  targetUserId: number;
  targetTokenId: number;
  A: VendorSide;
  B: VendorSide;
  contractId: number;
  contractFileId: number;
  amendmentId: number;
  amendmentFileId: number;
  findingId: number;
  importId: number;
  outboxId: number;
  clauseId: string;
  links: LinkSet;
}

const userActor = (u: { id: number; email: string }): Actor => ({ type: 'user', id: u.id, label: u.email, ip: null });
const tokenOf = (url: string) => url.split('/').pop()!;
/** The form token of a vendor page: in a hidden field, or in a form's action URL (upload forms). */
const formTokenIn = (html: string) => {
  const m = /name="_csrf" value="([^"]+)"|\?_csrf=([^"&]+)/.exec(html);
  assert.ok(m, 'the page has a form token');
  return m[1] ?? decodeURIComponent(m[2]!);
};

async function seedVendor(t: TestApp, w: Pick<World, 'users'>, name: string, templateId: string, sectionId: string): Promise<VendorSide> {
  const proc = userActor(w.users.procurement);
  const vendor = await makeVendor(t, { legalName: name, status: 'onboarding' });
  const contact = await t.ctx.vendors.addContact(proc, vendor.id, { name: `${name} Security`, email: `security@${name.toLowerCase().replace(/\W+/g, '-')}.example`, isSecurityContact: true });
  const spare = await t.ctx.vendors.addContact(proc, vendor.id, { name: `${name} Spare`, email: `spare@${name.toLowerCase().replace(/\W+/g, '-')}.example`, isSecurityContact: false });
  const sub = await t.ctx.vendors.addSubprocessor(proc, vendor.id, { name: `${name} Hosting`, purpose: 'Hosting' });
  const { questionnaire, link: qLink } = await t.ctx.questionnaires.send(proc, { vendorId: vendor.id, contactId: contact.id, templateId });
  const qToken = tokenOf(qLink);
  const fileName = `${name.toLowerCase().replace(/\W+/g, '-')}-wisp.pdf`;
  const saved = await saveSection(t.app, `/q/${qToken}`, sectionId, { wisp: 'yes' }, { files: [{ questionId: 'wisp_doc', name: fileName, content: PDF }] });
  assert.equal(saved.status, 303, `evidence upload for ${name}: ${saved.text.slice(0, 300)}`);
  const evidence = await t.ctx.ds.getRepository(EvidenceFile).findOneByOrFail({ questionnaireId: questionnaire.id });
  const qForm = formTokenIn((await request(t.app).get(`/q/${qToken}/s/${sectionId}`)).text);
  const { certification, link: cLink } = await t.ctx.certifications.request(userActor(w.users.legal), { vendorId: vendor.id, contactId: contact.id, templateId: 'annual-security' });
  const cToken = tokenOf(cLink);
  const cForm = formTokenIn((await request(t.app).get(`/c/${cToken}`)).text);
  return {
    vendorId: vendor.id,
    legalName: name,
    contactId: contact.id,
    spareContactId: spare.id,
    subId: sub.id,
    questionnaireId: questionnaire.id,
    questionnaireToken: qToken,
    questionnaireForm: qForm,
    evidenceFileId: evidence.id,
    evidenceFileName: evidence.fileName,
    certificationId: certification.id,
    certificationToken: cToken,
    certificationForm: cForm,
  };
}

async function seedWorld(t: TestApp): Promise<World> {
  const users = {} as World['users'];
  const apiTokens = {} as World['apiTokens'];
  for (const role of ROLES) {
    const u = await makeUser(t, role, { email: `matrix-${role}@example.com` });
    users[role] = { id: u.user.id, email: u.email };
    apiTokens[role] = (await t.ctx.apiTokens.create(userActor(users[role]), `matrix ${role}`)).token;
  }
  const target = await makeUser(t, 'viewer', { email: 'matrix-target@example.com' });
  const targetToken = await t.ctx.apiTokens.create(userActor({ id: target.user.id, email: target.email }), 'target');
  const invite = await t.ctx.accounts.inviteUser(systemActor('test'), { email: 'matrix-invited@example.com', name: 'Invited Person', role: 'viewer' }, { sendEmail: false });
  const calendarUrl = await new CalendarFeeds(t.ctx).create(userActor(users.admin), users.admin.id);

  const A = await seedVendor(t, { users }, 'Alpha Payroll Ltd', 'test-dd', 'program');
  const B = await seedVendor(t, { users }, 'Bravo Records Inc', 'other-dd', 'governance');

  // A's certification is signed by link (so it has a certificate); B's is uploaded on paper (so it has a file).
  const signPage = await request(t.app).get(`/c/${A.certificationToken}`);
  const textSha256 = /name="textSha256" value="([0-9a-f]{64})"/.exec(signPage.text)![1]!;
  const signed = await request(t.app)
    .post(`/c/${A.certificationToken}/sign`)
    .type('form')
    .send({ _csrf: A.certificationForm, signerName: 'Ada Alpha', signerTitle: 'CISO', signerCompany: A.legalName, signature: 'Ada Alpha', attest: 'on', textSha256 });
  assert.equal(signed.status, 303, signed.text.slice(0, 300));
  const uploaded = await request(t.app)
    .post(`/c/${B.certificationToken}/upload?_csrf=${encodeURIComponent(B.certificationForm)}`)
    .field('signerName', 'Bob Bravo')
    .field('signerTitle', 'CEO')
    .field('signerCompany', B.legalName)
    .attach('file', PDF, 'bravo-signed.pdf');
  assert.equal(uploaded.status, 303, uploaded.text.slice(0, 300));

  const legal = userActor(users.legal);
  const contract = await t.ctx.contracts.create(legal, A.vendorId, { title: 'Alpha MSA', type: 'msa', status: 'active', effectiveOn: '2025-01-01', expiresOn: null, signedOn: null, autoRenews: false, noticeDays: null, amendsId: null, notes: null }, { originalName: 'alpha-msa.pdf', buffer: PDF });
  const contractFile = await t.ctx.ds.getRepository(ContractFile).findOneByOrFail({ contractId: contract.id });
  const clauseId = t.ctx.clauses.list()[0]!.id;
  await t.ctx.contracts.reviewClauses(legal, contract.id, [{ clauseId, review: { status: 'missing', reference: null, note: null } }]);
  const amendment = await t.ctx.amendments.open(legal, A.vendorId, { items: [{ contractId: contract.id, clauseId }] });
  const amendmentFile = await t.ctx.amendments.attach(legal, amendment.id, { originalName: 'alpha-redline.pdf', buffer: PDF });
  const finding = await t.ctx.findings.create(userActor(users.reviewer), A.vendorId, { title: 'No encryption at rest', severity: 'high', citation: '201 CMR 17.04(5)', description: null, remediatedBy: 'vendor', remediationPlan: null, dueDate: null });
  const preview = await t.ctx.vendorImports.preview(userActor(users.procurement), 'vendors.csv', Buffer.from('legal_name\nImported Vendor Co\n'));
  assert.ok(preview.importId, 'the import preview is clean');
  const outbox = await t.ctx.ds.getRepository(OutboxMessage).findOneOrFail({ where: {}, order: { id: 'ASC' } });

  return {
    users,
    apiTokens,
    targetUserId: target.user.id,
    targetTokenId: targetToken.record.id,
    A,
    B,
    contractId: contract.id,
    contractFileId: contractFile.id,
    amendmentId: amendment.id,
    amendmentFileId: amendmentFile.id,
    findingId: finding.id,
    importId: preview.importId,
    outboxId: outbox.id,
    clauseId,
    links: { q: A.questionnaireToken, c: A.certificationToken, calendar: tokenOf(calendarUrl).replace(/\.ics$/, ''), password: tokenOf(invite.link) },
  };
}

/** The value of one path parameter, chosen by the record the path is about. */
function paramValue(w: World, routePath: string, name: string, before: string, links: LinkSet): string | number {
  const owner = before.split('/').filter((s) => s && !s.startsWith(':')).pop();
  switch (name) {
    case 'token':
      if (owner === 'q') return links.q;
      if (owner === 'c') return links.c;
      if (owner === 'set-password') return links.password;
      break;
    case 'file':
      return `${links.calendar}.ics`;
    case 'sectionId':
      return 'program';
    case 'contactId':
      return w.A.spareContactId;
    case 'subId':
      return w.A.subId;
    case 'clauseId':
      return w.clauseId;
    case 'templateId':
      return 'test-dd';
    case 'importId':
      return w.importId;
    case 'tokenId':
      return w.targetTokenId;
    case 'fileId':
      if (routePath.startsWith('/questionnaires/')) return w.A.evidenceFileId;
      if (routePath.startsWith('/contracts/amendments/')) return w.amendmentFileId;
      if (routePath.startsWith('/contracts/')) return w.contractFileId;
      break;
    case 'id':
      switch (owner) {
        case 'vendors':
          return w.A.vendorId;
        case 'questionnaires':
          return w.A.questionnaireId;
        case 'findings':
          return w.findingId;
        case 'contracts':
          return w.contractId;
        case 'amendments':
          return w.amendmentId;
        // The certificate exists for A's (signed) certification; the uploaded file for B's.
        case 'certifications':
          return routePath.endsWith('/file') ? w.B.certificationId : w.A.certificationId;
        case 'users':
          return w.targetUserId;
        case 'outbox':
          return w.outboxId;
      }
  }
  throw new Error(`no seeded value for :${name} in ${routePath}: add one to paramValue()`);
}

/** A route's path with every parameter filled from the world (A's links unless told otherwise). */
function fill(w: World, routePath: string, links: LinkSet = w.links): string {
  return routePath.replace(/:(\w+)/g, (_m, name: string, offset: number) => encodeURIComponent(String(paramValue(w, routePath, name, routePath.slice(0, offset), links))));
}

// ---- Sending requests ------------------------------------------------------------------------

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

interface Caller {
  label: string;
  agent: Agent;
  /** A CSRF token of this caller's session, when it has one. */
  csrf: string | null;
  bearer?: string;
}

function send(caller: Caller, method: Method, url: string, opts: { json?: boolean; accept?: string; formToken?: string } = {}) {
  const target = opts.formToken ? `${url}${url.includes('?') ? '&' : '?'}_csrf=${encodeURIComponent(opts.formToken)}` : url;
  let req = caller.agent[method.toLowerCase() as 'get' | 'post' | 'patch' | 'put' | 'delete'](target);
  if (caller.bearer) req = req.set('Authorization', `Bearer ${caller.bearer}`);
  if (opts.accept) req = req.set('Accept', opts.accept);
  if (method === 'GET') return req;
  if (opts.json) return req.send({});
  const _csrf = opts.formToken ?? caller.csrf;
  return req.type('form').send(_csrf ? { _csrf } : {});
}

const describeRes = (res: Response) => `${res.status} ${(res.text ?? '').replace(/\s+/g, ' ').slice(0, 200)}`;

/** The headers every answer of the portal carries, and what downloads and cookies must add. */
function checkHeaders(res: Response, label: string, opts: { sessionless: boolean }) {
  const csp = String(res.headers['content-security-policy'] ?? '');
  assert.match(csp, /default-src 'self'/, `${label}: CSP`);
  assert.match(csp, /script-src 'self'(;|$)/, `${label}: script-src`);
  assert.match(csp, /frame-ancestors 'none'/, `${label}: frame-ancestors`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${label}: nothing unsafe in the CSP`);
  assert.equal(res.headers['x-frame-options'], 'DENY', `${label}: X-Frame-Options`);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', `${label}: nosniff`);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', `${label}: Referrer-Policy`);
  assert.equal(res.headers['x-powered-by'], undefined, `${label}: X-Powered-By`);
  const type = String(res.headers['content-type'] ?? '');
  // A calendar app polls its feed; it may keep it privately for a while, never in a shared cache.
  if (type.startsWith('text/calendar')) assert.match(String(res.headers['cache-control']), /^private/, `${label}: Cache-Control`);
  else assert.equal(res.headers['cache-control'], 'no-store', `${label}: Cache-Control`);
  if (res.status === 200 && !/^(text\/html|application\/json|text\/calendar)/.test(type)) {
    assert.match(String(res.headers['content-disposition'] ?? ''), /^attachment/, `${label}: a download (${type}) is an attachment`);
  }
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  if (opts.sessionless) assert.deepEqual(cookies, [], `${label}: no cookie on a link, feed or API answer`);
  for (const c of cookies) {
    assert.match(c, /; HttpOnly/i, `${label}: cookie HttpOnly`);
    assert.match(c, /; SameSite=Lax/i, `${label}: cookie SameSite=Lax`);
  }
}

// ---- The tests --------------------------------------------------------------------------------

describe('access control', () => {
  let t: TestApp;
  let w: World;
  let dir: string;
  const staffCallers = {} as Record<Role, Caller>;
  let anonymous: Caller;
  let linkHolder: Caller;
  /** An admin's API token sent to the staff pages, with a session that has a CSRF token but no user. */
  let bearerOnly: Caller;

  const signedInCaller = async (role: Role): Promise<Caller> => {
    const agent = await signIn(t.app, w.users[role].email, GOOD_PASSWORD);
    return { label: role, agent, csrf: csrfFrom((await agent.get('/')).text) };
  };
  /** No session of staff: one that only opened the login page (so it has a CSRF token), and one that holds A's links. */
  const refreshCallers = async () => {
    for (const role of ROLES) staffCallers[role] = await signedInCaller(role);
    const anon = request.agent(t.app);
    anonymous = { label: 'anonymous', agent: anon, csrf: csrfFrom((await anon.get('/login')).text) };
    const holder = request.agent(t.app);
    assert.equal((await holder.get(`/q/${w.A.questionnaireToken}`)).status, 200);
    assert.equal((await holder.get(`/c/${w.A.certificationToken}`)).status, 200);
    linkHolder = { label: "holder of A's links", agent: holder, csrf: csrfFrom((await holder.get('/login')).text) };
    const bearer = request.agent(t.app);
    bearerOnly = { label: 'admin API token', agent: bearer, csrf: csrfFrom((await bearer.get('/login')).text), bearer: w.apiTokens.admin };
  };

  /** Row counts of every table but sessions: a refused request must leave all of them as they were. */
  const fingerprint = async () => {
    const counts: string[] = [];
    for (const meta of t.ctx.ds.entityMetadatas) {
      if (meta.tableName === 'sessions') continue;
      counts.push(`${meta.tableName}=${await t.ctx.ds.getRepository(meta.target).count()}`);
    }
    return counts.join(' ');
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-access-'));
    fs.writeFileSync(path.join(dir, 'test-dd.yaml'), TEST_TEMPLATE);
    fs.writeFileSync(path.join(dir, 'other-dd.yaml'), OTHER_TEMPLATE);
    t = await createTestApp({ templatesDir: dir, app: { authRateLimit: { windowMs: 60_000, limit: 100_000 }, linkRateLimit: { windowMs: 60_000, limit: 100_000 } } });
    w = await seedWorld(t);
    await refreshCallers();
  });
  after(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('When the app is built, then every route has exactly one rule in the policy and every rule names a route', () => {
    const routes = routeTable(t.app).map((r) => `${r.method} ${r.path}`);
    const missing = routes.filter((r) => !(r in POLICY));
    const stale = Object.keys(POLICY).filter((k) => !routes.includes(k));
    assert.deepEqual(missing, [], `routes without a rule in test/access-control.test.ts POLICY: ${missing.join(', ')}`);
    assert.deepEqual(stale, [], `rules for routes the app no longer has: ${stale.join(', ')}`);
    for (const r of routeTable(t.app)) assert.doesNotThrow(() => fill(w, r.path), `${r.method} ${r.path}: every parameter has a seeded value`);
  });

  test('When every page and download is opened by each caller that may, then it carries the security headers and cookie flags', async () => {
    let checked = 0;
    for (const { method, path: routePath } of routeTable(t.app)) {
      if (method !== 'GET') continue;
      const rule = POLICY[`${method} ${routePath}`]!;
      const url = fill(w, routePath);
      const callers: Caller[] =
        rule.kind === 'staff'
          ? rule.roles.map((r) => staffCallers[r])
          : rule.kind === 'api'
            ? rule.roles.map((r) => ({ label: `${r} token`, agent: request.agent(t.app), csrf: null, bearer: w.apiTokens[r] }))
            : [request.agent(t.app)].map((agent) => ({ label: 'anonymous', agent, csrf: null }));
      for (const caller of callers) {
        const res = await send(caller, 'GET', url);
        const label = `${caller.label} GET ${routePath}`;
        assert.ok(res.status < 500, `${label}: ${describeRes(res)}`);
        if (routePath === '/favicon.ico' || routePath === '/setup') continue;
        checkHeaders(res, label, { sessionless: /^\/(q|c|calendar|api)\//.test(routePath) });
        checked += 1;
      }
    }
    assert.ok(checked > 150, `checked ${checked} answers`);
    // Signing in sets the session cookie: HttpOnly and SameSite=Lax, never readable by a script.
    const agent = request.agent(t.app);
    const login = await agent.get('/login');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(login.text), email: w.users.viewer.email, password: GOOD_PASSWORD });
    assert.equal(res.status, 303);
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).join('\n');
    assert.match(cookie, /oversight\.sid=[^;]+;.*HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.doesNotMatch(cookie, /Secure/, 'not Secure on http');
  });

  test("When the holder of vendor A's links asks for vendor B's records through them, then the answer is 404 and shows nothing of B", async () => {
    const holder = request.agent(t.app);
    const qa = `/q/${w.A.questionnaireToken}`;
    const leaks = (res: Response, label: string) => {
      for (const secret of [w.B.legalName, B_ONLY_QUESTION, w.B.evidenceFileName, 'governance', 'bravo-signed.pdf', 'Bob Bravo']) {
        assert.ok(!res.text.includes(secret), `${label} shows nothing of B (${secret})`);
      }
    };
    const before = await fingerprint();
    for (const section of ['governance', 'breaches']) {
      const page = await holder.get(`${qa}/s/${section}`);
      assert.equal(page.status, 404, `A's link with B's section ${section}`);
      leaks(page, `GET ${qa}/s/${section}`);
      const post = await holder.post(`${qa}/s/${section}?_csrf=${encodeURIComponent(w.A.questionnaireForm)}`).field('action', 'save').field('present__wisp', '1').field('a__wisp', 'no');
      assert.equal(post.status, 404, `POST to B's section ${section} through A's link`);
      leaks(post, `POST ${qa}/s/${section}`);
    }
    // Removing B's evidence file through A's link.
    const remove = await holder.post(`${qa}/s/program?_csrf=${encodeURIComponent(w.A.questionnaireForm)}`).field('action', `remove:${w.B.evidenceFileId}`);
    assert.equal(remove.status, 404, `remove B's file through A's link: ${describeRes(remove)}`);
    leaks(remove, 'remove');
    assert.ok(await t.ctx.ds.getRepository(EvidenceFile).findOneBy({ id: w.B.evidenceFileId }), "B's file is still there");
    // B's form token does not work on A's link, nor A's on B's.
    const crossed = await holder.post(`${qa}/submit?_csrf=${encodeURIComponent(w.B.questionnaireForm)}`).type('form').send({});
    assert.equal(crossed.status, 403, "B's form token on A's link");
    const crossedC = await holder.post(`/c/${w.A.certificationToken}/decline`).type('form').send({ _csrf: w.B.certificationForm, name: 'X', reason: 'Y' });
    assert.equal(crossedC.status, 403, "B's certification form token on A's certification link");
    assert.equal(await fingerprint(), before, 'nothing changed');
    // What A's pages show is A's alone.
    for (const url of [qa, `${qa}/s/program`, `${qa}/s/incidents`, `${qa}/review`, `/c/${w.A.certificationToken}`]) {
      const res = await holder.get(url);
      assert.equal(res.status, 200, url);
      leaks(res, url);
    }
    // The kinds of links do not mix: a questionnaire token is no certification, calendar or password link.
    const wrong: [string, number][] = [
      [`/c/${w.A.questionnaireToken}`, 404],
      [`/c/${w.A.questionnaireToken}/certificate.pdf`, 404],
      [`/q/${w.A.certificationToken}`, 404],
      [`/q/${w.A.certificationToken}/review`, 404],
      [`/calendar/${w.A.questionnaireToken}.ics`, 404],
      [`/calendar/${w.A.certificationToken}.ics`, 404],
      [`/set-password/${w.A.questionnaireToken}`, 404],
      [`/setup?token=${w.A.questionnaireToken}`, 404],
      [`/q/${w.links.calendar}`, 404],
      [`/q/${w.links.password}`, 404],
    ];
    for (const [url, status] of wrong) assert.equal((await holder.get(url)).status, status, url);
    // And as an API token: nothing.
    for (const token of [w.A.questionnaireToken, w.A.certificationToken, w.links.calendar, `ovs_${w.A.questionnaireToken}`]) {
      const res = await request(t.app).get('/api/v1/vendors').set('Authorization', `Bearer ${token}`);
      assert.equal(res.status, 401);
    }
  });

  test('When a file is asked for under a record it does not belong to, then the answer is 404', async () => {
    const viewer = staffCallers.viewer.agent;
    const cases = [
      `/questionnaires/${w.A.questionnaireId}/files/${w.B.evidenceFileId}`,
      `/questionnaires/${w.B.questionnaireId}/files/${w.A.evidenceFileId}`,
      `/contracts/${w.contractId}/files/${w.amendmentFileId}`,
      `/contracts/amendments/${w.amendmentId}/files/${w.contractFileId}`,
    ];
    for (const url of cases) {
      const res = await viewer.get(url);
      assert.equal(res.status, 404, `${url}: ${describeRes(res)}`);
      assert.ok(!res.text.includes('%PDF'), `${url} sends no file`);
    }
    const own = await viewer.get(`/questionnaires/${w.B.questionnaireId}/files/${w.B.evidenceFileId}`);
    assert.equal(own.status, 200, 'the same file under its own questionnaire');
  });

  test('When every route is called by every role, anonymously, with a link and with an API token, then only the policy allows it and a refusal changes nothing', async () => {
    const order = (r: { method: string; path: string }) => {
      const rule = POLICY[`${r.method} ${r.path}`]!;
      // Link routes first, then reads, then writes: a write (a resend, a logout) may change what later routes see.
      return rule.kind === 'link' ? 0 : r.method === 'GET' ? 1 : 2;
    };
    const routes = routeTable(t.app).sort((a, b) => order(a) - order(b));
    const randomLinks: LinkSet = { q: NOT_A_TOKEN, c: NOT_A_TOKEN, calendar: NOT_A_TOKEN, password: NOT_A_TOKEN };
    const swappedLinks: LinkSet = { q: w.A.certificationToken, c: w.A.questionnaireToken, calendar: w.A.questionnaireToken, password: w.A.certificationToken };
    const tokenCaller = (role: Role): Caller => ({ label: `${role} API token`, agent: request.agent(t.app), csrf: null, bearer: w.apiTokens[role] });
    let requests = 0;

    for (const { method: m, path: routePath } of routes) {
      const method = m as Method;
      const key = `${method} ${routePath}`;
      const rule = POLICY[key]!;
      const url = fill(w, routePath);
      const json = routePath.startsWith('/api/');
      const run = async (caller: Caller, target = url, opts: { accept?: string; formToken?: string } = {}) => {
        const res = await send(caller, method, target, { json, ...opts });
        requests += 1;
        assert.ok(res.status < 500, `${caller.label} ${method} ${target}: never a 5xx, got ${describeRes(res)}`);
        return res;
      };
      const allowed = (res: Response, who: string) => {
        assert.ok(![401, 403].includes(res.status), `${who} ${key} is allowed, got ${describeRes(res)}`);
        if (method === 'GET') assert.ok(res.status < 400, `${who} ${key} answers, got ${describeRes(res)}`);
      };
      const refusedAnonymously = (res: Response, who: string, accept?: string) => {
        if (method === 'GET' && accept !== 'application/json' && !json) {
          assert.equal(res.status, 303, `${who} ${key} goes to sign in, got ${describeRes(res)}`);
          assert.match(String(res.headers.location), /^\/login\?returnTo=/);
        } else {
          assert.equal(res.status, 401, `${who} ${key} is refused as not signed in, got ${describeRes(res)}`);
        }
      };

      // -- The refusals, and that they change nothing.
      const before = await fingerprint();
      if (rule.kind === 'staff') {
        for (const role of ROLES.filter((r) => !rule.roles.includes(r))) {
          const res = await run(staffCallers[role]);
          assert.equal(res.status, 403, `${role} ${key} is refused, got ${describeRes(res)}`);
          assert.doesNotMatch(res.text, CSRF_MESSAGE, `${role} ${key}: refused for the role, not for the form token`);
        }
        for (const caller of [anonymous, linkHolder, bearerOnly]) {
          refusedAnonymously(await run(caller), caller.label);
          if (method === 'GET') refusedAnonymously(await run(caller, url, { accept: 'application/json' }), caller.label, 'application/json');
        }
      } else if (rule.kind === 'api') {
        for (const role of ROLES.filter((r) => !rule.roles.includes(r))) {
          const res = await run(tokenCaller(role));
          assert.equal(res.status, 403, `${role} API token ${key} is refused, got ${describeRes(res)}`);
        }
        // A session cookie, a link or nothing at all opens no API route.
        for (const caller of [...ROLES.map((r) => staffCallers[r]), anonymous, linkHolder, { ...linkHolder, label: 'A link as a bearer token', bearer: w.A.questionnaireToken }]) {
          refusedAnonymously(await run(caller), caller.label);
        }
      } else if (rule.kind === 'link') {
        for (const links of [randomLinks, swappedLinks]) {
          const wrong: string = rule.link === 'setup' ? `${routePath}?token=${links.q}` : fill(w, routePath, links);
          for (const caller of [anonymous, staffCallers.admin, staffCallers.viewer]) {
            const res = await run(caller, wrong);
            assert.equal(res.status, 404, `${caller.label} ${method} ${wrong} with a wrong link, got ${describeRes(res)}`);
          }
        }
      }
      assert.equal(await fingerprint(), before, `refused calls of ${key} changed nothing`);

      // -- The callers the policy lets in.
      if (rule.kind === 'public') {
        for (const caller of [anonymous, ...ROLES.map((r) => staffCallers[r])]) allowed(await run(caller), caller.label);
      } else if (rule.kind === 'staff') {
        for (const role of rule.roles) allowed(await run(staffCallers[role]), role);
      } else if (rule.kind === 'api') {
        for (const role of rule.roles) allowed(await run(tokenCaller(role)), `${role} API token`);
      } else if (rule.link === 'setup') {
        // Set-up is over once a user exists: no setup link works any more, for anyone.
        assert.equal((await run(anonymous)).status, 404);
      } else {
        const formToken = rule.link === 'questionnaire' ? w.A.questionnaireForm : rule.link === 'certification' ? w.A.certificationForm : undefined;
        allowed(await run(linkHolder, url, method === 'GET' ? {} : { formToken }), 'link holder');
      }
      if (key === 'POST /logout') await refreshCallers();
    }
    assert.ok(requests > 1500, `${requests} requests`);
  });
});

// ---- Item 7: guessing links and passwords is slowed and reported --------------------------------

describe('guessing links, tokens and passwords', () => {
  let t: TestApp;
  const lines: string[] = [];
  const LIMIT = 4;
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    t = await createTestApp({
      logger: pino({ level: 'info' }, sink),
      app: { authRateLimit: { windowMs: 15 * MINUTE, limit: LIMIT }, linkRateLimit: { windowMs: 15 * MINUTE, limit: LIMIT } },
    });
  });
  after(() => t.close());

  const warnings = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; what?: string; ip?: string }).filter((l) => l.level === 40 && /rate limit reached/.test(l.msg));
  const auditCount = (action: string) => t.ctx.ds.getRepository(AuditEntry).count({ where: { action } });
  const guess = () => crypto.randomBytes(32).toString('base64url');

  test('When one address opens wrong questionnaire, certification and calendar links, then the shared allowance runs out, 429 comes with Retry-After, and it is logged and audited once', async () => {
    const vendor = await makeVendor(t, { status: 'onboarding' });
    const proc = await makeUser(t, 'procurement');
    const contact = await t.ctx.vendors.addContact(userActor({ id: proc.user.id, email: proc.email }), vendor.id, { name: 'Sec', email: 'sec@limit.example', isSecurityContact: true });
    const { link: qLink } = await t.ctx.questionnaires.send(userActor({ id: proc.user.id, email: proc.email }), { vendorId: vendor.id, contactId: contact.id, templateId: 'ma-201-cmr-17-due-diligence' });
    const real = new URL(qLink).pathname;

    // A vendor using a real link is never counted, however often.
    for (let i = 0; i < LIMIT * 3; i++) assert.equal((await request(t.app).get(real)).status, 200, 'a real link is never limited');

    const wrong = [`/q/${guess()}`, `/c/${guess()}`, `/calendar/${guess()}.ics`, `/q/${guess()}/review`];
    for (const url of wrong) assert.equal((await request(t.app).get(url)).status, 404, url);
    const before = await auditCount('security.rate_limited');
    for (const url of [`/q/${guess()}`, `/c/${guess()}`, `/calendar/${guess()}.ics`, real]) {
      const res = await request(t.app).get(url);
      assert.equal(res.status, 429, `${url} after ${LIMIT} wrong links`);
      assert.match(String(res.headers['retry-after']), /^\d+$/, 'Retry-After in seconds');
      assert.ok(Number(res.headers['retry-after']) > 0 && Number(res.headers['retry-after']) <= 15 * 60);
    }
    const page = await request(t.app).get(`/q/${guess()}`);
    assert.match(page.text, /Too many invalid links were opened from your address/);
    assert.equal(page.headers['cache-control'], 'no-store');
    const feed = await request(t.app).get(`/calendar/${guess()}.ics`);
    assert.equal(feed.status, 429);

    assert.equal((await auditCount('security.rate_limited')) - before, 1, 'one audit entry per address and window, not one per refusal');
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOneOrFail({ where: { action: 'security.rate_limited' }, order: { id: 'DESC' } });
    assert.equal(entry.actorType, 'anonymous');
    assert.ok(entry.ip, 'the address is recorded');
    const warned = warnings().filter((l) => l.what === 'failed link or token look-ups');
    assert.equal(warned.length, 1, 'one warning in the log');
    assert.ok(warned[0]!.ip);
    const log = lines.join('');
    for (const url of wrong) assert.ok(!log.includes(url.split('/')[2]!.replace(/\.ics$/, '')), `no guessed token reaches the log (${url})`);
    assert.match(log, /"url":"\/calendar\/\[token\]\.ics"/, 'calendar addresses are logged with the token masked');
  });

  test('When many requests with a working token arrive at once from one address, then none is refused, however small the allowance', async () => {
    const fresh = await createTestApp({ app: { linkRateLimit: { windowMs: 15 * MINUTE, limit: 2 } } });
    try {
      const { user, email } = await makeUser(fresh, 'viewer');
      const { token } = await fresh.ctx.apiTokens.create(userActor({ id: user.id, email }), 'busy office');
      const server = fresh.app.listen(0);
      try {
        const answers = await Promise.all(Array.from({ length: 40 }, () => request(server).get('/api/v1/vendors').set('Authorization', `Bearer ${token}`)));
        assert.deepEqual([...new Set(answers.map((r) => r.status))], [200], 'requests still in flight are not counted as failures');
      } finally {
        server.close();
      }
    } finally {
      await fresh.close();
    }
  });

  test('When an address sends wrong API tokens or opens wrong password links, then they count too and the API answers 429 in JSON', async () => {
    // The allowance of this address is used up by the test before; a new app starts afresh.
    const fresh = await createTestApp({ app: { linkRateLimit: { windowMs: 15 * MINUTE, limit: 2 } } });
    try {
      assert.equal((await request(fresh.app).get('/api/v1/vendors').set('Authorization', `Bearer ovs_${guess()}`)).status, 401);
      assert.equal((await request(fresh.app).get(`/set-password/${guess()}`)).status, 404);
      const api = await request(fresh.app).get('/api/v1/vendors').set('Authorization', `Bearer ovs_${guess()}`);
      assert.equal(api.status, 429);
      assert.ok(Number(api.headers['retry-after']) > 0);
      assert.equal(api.body.error.status, 429);
      const password = await request(fresh.app).get(`/set-password/${guess()}`);
      assert.equal(password.status, 429);
      assert.match(password.text, /Too many invalid links/);
      assert.equal(await fresh.ctx.ds.getRepository(AuditEntry).count({ where: { action: 'security.rate_limited' } }), 1);
    } finally {
      await fresh.close();
    }
  });

  test('When one address posts wrong passwords, then it is refused after its allowance with Retry-After, one warning and one audit entry, and refused attempts never reach the account', async () => {
    const victim = await makeUser(t, 'admin');
    const agent = request.agent(t.app);
    const _csrf = csrfFrom((await agent.get('/login')).text);
    for (let i = 0; i < LIMIT; i++) {
      const res = await agent.post('/login').type('form').send({ _csrf, email: victim.email, password: `wrong password ${i}` });
      assert.equal(res.status, 401);
    }
    assert.equal(await auditCount('auth.login_failed'), LIMIT, 'each failure is audited');
    const before = await auditCount('security.rate_limited');
    for (let i = 0; i < 3; i++) {
      const res = await agent.post('/login').type('form').send({ _csrf, email: victim.email, password: GOOD_PASSWORD });
      assert.equal(res.status, 429, 'even the right password waits');
      assert.ok(Number(res.headers['retry-after']) > 0);
    }
    assert.equal((await auditCount('security.rate_limited')) - before, 1);
    assert.equal(warnings().filter((l) => l.what === 'sign-in and password forms').length, 1);
    const user = await t.ctx.accounts.getUser(victim.user.id);
    assert.equal(user.failedLoginCount, LIMIT, 'the refused attempts never reached the account');
  });
});
