import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { AuditEntry } from '../server/audit/entities';
import { systemActor } from '../server/audit/service';
import { DAY } from '../server/clock';
import { seedContracts } from '../server/contracts/demo';
import { type Clause, CATALOGUE_FILE, appliesTo, loadCatalogue, parseCatalogue } from '../server/contracts/catalogue';
import { combineClause, coveragePercent } from '../server/contracts/coverage';
import { contractDueDates } from '../server/contracts/due-dates';
import { AmendmentItem, Contract, ContractAmendment, ContractClause, ContractFile } from '../server/contracts/entities';
import type { ContractInput } from '../server/contracts/schema';
import { isLegacy } from '../server/contracts/service';
import { Finding } from '../server/findings/entities';
import { Vendor } from '../server/vendors/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { type Agent, csrfFrom, makeVendor, signedIn, signIn, submit, tokenFor } from './helpers/http';

type SignedIn = Awaited<ReturnType<typeof signedIn>>;
type Users = Record<'admin' | 'procurement' | 'legal' | 'legal2' | 'reviewer' | 'viewer', SignedIn>;

const PDF = Buffer.from('%PDF-1.4\n% signed contract\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
/** Enough of a .docx for content detection: a ZIP naming [Content_Types].xml and word/. */
const DOCX = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from('....[Content_Types].xml....word/document.xml....', 'latin1')]);
const EXE = Buffer.concat([Buffer.from('MZ', 'latin1'), Buffer.alloc(64, 0), Buffer.from('This program cannot be run in DOS mode', 'latin1')]);

const ALL_WITH_PI = ['CL-SEC', 'CL-LAW', 'CL-AUDIT', 'CL-TERM', 'CL-INDEM', 'CL-DISP', 'CL-BRN', 'CL-CERT'];

const actorFor = (u: SignedIn) => ({ type: 'user' as const, id: u.user.id, label: u.email, ip: null });

function contractInput(overrides: Partial<ContractInput> = {}): ContractInput {
  return { title: 'Master Services Agreement', type: 'msa', status: 'active', effectiveOn: '2024-01-01', expiresOn: null, signedOn: null, autoRenews: false, noticeDays: null, amendsId: null, notes: null, ...overrides };
}

/** Every applicable clause present (at "§<n>"), except those named. */
type Gaps = Record<string, { status: 'missing' | 'partial' | 'not_applicable' | 'not_reviewed' | 'present'; reference?: string; note?: string }>;

function reviews(except: Gaps = {}, ids = ALL_WITH_PI) {
  return ids.map((clauseId, i) => {
    const e = except[clauseId];
    return { clauseId, review: e ? { status: e.status, reference: e.reference ?? null, note: e.note ?? null } : { status: 'present' as const, reference: `§${i + 1}`, note: null } };
  });
}

function clauseForm(states: Record<string, [string, string?, string?]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, [status, reference, note]] of Object.entries(states)) {
    out[`status__${id}`] = status;
    out[`reference__${id}`] = reference ?? '';
    out[`note__${id}`] = note ?? '';
  }
  return out;
}

/** Posts a multipart form with the CSRF token from `pagePath` in its address, as the pages do. */
async function upload(agent: Agent, pagePath: string, action: string, fields: Record<string, string>, file?: { field: string; name: string; buffer: Buffer }) {
  const token = await tokenFor(agent, pagePath);
  let req = agent.post(`${action}?_csrf=${encodeURIComponent(token)}`);
  for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
  if (file) req = req.attach(file.field, file.buffer, { filename: file.name });
  return req;
}

/** Reads a response body as bytes, whatever its type. */
function binary(res: NodeJS.ReadableStream, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

function storedFiles(t: TestApp): string[] {
  const dir = path.join(t.config.dataDir, 'contracts');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

describe('the clause catalogue', () => {
  test('When the shipped catalogue is read, then it is valid, holds the nine clauses with exact citations, and never calls the certification a requirement of 201 CMR 17.00', () => {
    const cat = loadCatalogue(CATALOGUE_FILE);
    assert.deepEqual(cat.errors, []);
    assert.equal(cat.valid, true);
    assert.deepEqual(cat.clauses.map((c) => c.id), ['CL-SEC', 'CL-LAW', 'CL-AUDIT', 'CL-TERM', 'CL-INDEM', 'CL-DISP', 'CL-BRN', 'CL-SUBK', 'CL-CERT']);
    const byId = new Map(cat.clauses.map((c) => [c.id, c]));
    assert.deepEqual(byId.get('CL-SEC')!.citations, ['201 CMR 17.03(2)(f)(2)', '16 CFR 314.4(f)(2)', '45 CFR 164.314(a)']);
    assert.deepEqual(byId.get('CL-BRN')!.citations, ['Practice note', 'M.G.L. c.93H §3(a)']);
    assert.deepEqual(byId.get('CL-SUBK')!.citations, ['45 CFR 164.314(a)(2)(i)(B)', 'NIST CSF GV.SC-05']);
    const cert = byId.get('CL-CERT')!;
    assert.equal(cert.basis, 'best_practice');
    assert.ok(cert.citations.every((c) => !/201 CMR 17/.test(c)));
    assert.match(cert.mustSay, /does not require it/);
    assert.deepEqual(byId.get('CL-SUBK')!.appliesWhen, { personalInformation: true, inScope: undefined, piElements: undefined, subprocessors: true });
    assert.ok(cat.version! >= 1 && /^[0-9a-f]{64}$/.test(cat.contentHash!));
  });

  test('When a clause names conditions, then it applies only to vendors that meet every one', () => {
    const facts = (piElements: ('ssn' | 'biometric' | 'financialAccount')[], subprocessorCount = 0, inScope = piElements.length > 0) => ({ piElements, inScope, subprocessorCount });
    const cat = loadCatalogue(CATALOGUE_FILE);
    const applicable = (f: ReturnType<typeof facts>) => cat.clauses.filter((c) => appliesTo(c, f)).map((c) => c.id);
    assert.deepEqual(applicable(facts([])), [], 'no personal information: no clause applies');
    assert.deepEqual(applicable(facts(['ssn'])), ALL_WITH_PI, 'CL-SUBK only with subprocessors');
    assert.ok(applicable(facts(['ssn'], 2)).includes('CL-SUBK'));
    const custom = (appliesWhen: Clause['appliesWhen']) => ({ appliesWhen });
    assert.equal(appliesTo(custom({ piElements: ['biometric'] }), facts(['ssn'])), false);
    assert.equal(appliesTo(custom({ piElements: ['biometric', 'ssn'] }), facts(['ssn'])), true, 'any of the elements');
    assert.equal(appliesTo(custom({ inScope: true }), facts(['ssn'], 0, false)), false, 'personal information of non-residents is not in scope');
    assert.equal(appliesTo(custom({ subprocessors: false }), facts(['ssn'], 1)), false);
    assert.equal(appliesTo(custom({}), facts([])), true, 'no condition: always');
  });

  test('When the catalogue file is broken, then each problem names the file, the path and the reason, and nothing is thrown', () => {
    const bad = parseCatalogue(
      '/x/catalogue.yaml',
      [
        'version: 2',
        'clauses:',
        '  - { id: CL-SEC, title: Security, must_say: The vendor keeps it safe always., citations: ["201 CMR 17.03(2)(f)(2)"], basis: rule, severity: critical }',
        '  - { id: CL-SEC, title: Again, must_say: The vendor keeps it safe again., citations: [], basis: rule, severity: high }',
        '  - { id: cl-x, title: Cert, must_say: The vendor certifies every year., citations: ["201 CMR 17.03(2)(f)"], basis: best_practice, severity: urgent, colour: red }',
      ].join('\n'),
    );
    assert.equal(bad.valid, false);
    assert.deepEqual(bad.clauses, []);
    const has = (re: RegExp) => assert.ok(bad.errors.some((e) => re.test(e)), `${re} in ${bad.errors.join(' | ')}`);
    has(/^catalogue\.yaml: clauses\.1\.citations: needs at least one citation$/);
    has(/^catalogue\.yaml: clauses\.2\.id: must look like CL-XXXX/);
    has(/^catalogue\.yaml: clauses\.2\.severity: must be one of critical, high, medium, low$/);
    has(/^catalogue\.yaml: clauses\.2: Unrecognized key: "colour"/);
    const yaml = parseCatalogue('catalogue.yaml', 'version: [1\nclauses: x');
    assert.equal(yaml.valid, false);
    assert.match(yaml.errors[0]!, /^catalogue\.yaml: /);
    const dup = parseCatalogue('catalogue.yaml', 'version: 1\nclauses:\n  - { id: CL-A1, title: One, must_say: Says one thing here., citations: [x1x], basis: guidance, severity: low }\n  - { id: CL-A1, title: Two, must_say: Says another thing., citations: [x2x], basis: guidance, severity: low }');
    assert.deepEqual(dup.errors, ['catalogue.yaml: clauses.1.id: clause id "CL-A1" is used twice']);
    const cert = parseCatalogue('catalogue.yaml', 'version: 1\nclauses:\n  - { id: CL-CERT, title: Cert, must_say: The vendor certifies every year., citations: ["Best practice", "201 CMR 17.03(2)(f)"], basis: best_practice, severity: low }');
    assert.deepEqual(cert.errors, ['catalogue.yaml: clauses.0.citations.1: a best-practice clause must not cite 201 CMR 17.00 as its source']);
    assert.equal(loadCatalogue('/nonexistent/catalogue.yaml').valid, false, 'a missing file is reported, not thrown');
  });
});

describe('combining clause states across contracts', () => {
  test('When contracts disagree, then present anywhere covers, not applicable everywhere leaves it aside, and missing needs every contract reviewed', () => {
    assert.equal(combineClause([]), 'no_contract');
    assert.equal(combineClause(['missing', 'present']), 'present', 'a clause in the DPA covers the MSA');
    assert.equal(combineClause(['not_applicable', 'not_applicable']), 'not_applicable');
    assert.equal(combineClause(['not_applicable', 'missing']), 'missing');
    assert.equal(combineClause(['partial', 'missing']), 'partial');
    assert.equal(combineClause(['missing', 'not_reviewed']), 'not_reviewed');
    assert.equal(combineClause(['missing', 'missing']), 'missing');
    assert.equal(coveragePercent(['present', 'present', 'not_applicable']), 100);
    assert.equal(coveragePercent(['present', 'missing', 'partial']), 33, 'rounded down');
    assert.equal(coveragePercent([...Array<'present'>(199).fill('present'), 'missing']), 99, '199 of 200 is not 100%');
    assert.equal(coveragePercent(['not_applicable']), null);
  });

  test('When a contract was entered into no later than 2010-03-01, then it is a legacy contract', () => {
    assert.equal(isLegacy({ signedOn: '2010-03-01', effectiveOn: '2011-01-01' }), true);
    assert.equal(isLegacy({ signedOn: '2010-03-02', effectiveOn: '2009-01-01' }), false, 'the signing date decides when known');
    assert.equal(isLegacy({ signedOn: null, effectiveOn: '2008-05-01' }), true, 'else the effective date');
    assert.equal(isLegacy({ signedOn: null, effectiveOn: null }), false);
  });
});

describe('contracts, clause coverage and amendments', () => {
  let t: TestApp;
  const u = {} as Users;
  before(async () => {
    // Moving the clock ends sessions, so tests that travel sign everyone in again: more sign-ins than the default limit.
    t = await createTestApp({ app: { authRateLimit: { windowMs: 60_000, limit: 10_000 } } });
    for (const role of ['admin', 'procurement', 'legal', 'reviewer', 'viewer'] as const) u[role] = await signedIn(t, role);
    u.legal2 = await signedIn(t, 'legal');
  });
  after(() => t.close());

  /** Moves the clock (by some milliseconds, or to an instant) and signs everyone in again, as idle sessions end. */
  const travel = async (to: number | string) => {
    if (typeof to === 'number') t.clock.advance(to);
    else t.clock.set(to);
    for (const k of Object.keys(u) as (keyof Users)[]) u[k].agent = await signIn(t.app, u[k].email);
  };
  const START = '2026-03-02T09:00:00.000Z';

  const audit = (action: string, entityType: string, entityId: number) =>
    t.ctx.ds.getRepository(AuditEntry).find({ where: { action, entityType, entityId: String(entityId) }, order: { id: 'ASC' } });
  const makeContract = (vendorId: number, overrides: Partial<ContractInput> = {}) => t.ctx.contracts.create(actorFor(u.legal), vendorId, contractInput(overrides));
  const review = (contractId: number, except: Gaps = {}, ids = ALL_WITH_PI) => t.ctx.contracts.reviewClauses(actorFor(u.legal), contractId, reviews(except, ids));
  const stateOf = async (vendorId: number) => new Map((await t.ctx.contracts.vendorCoverage(vendorId)).clauses.map((x) => [x.clause.id, x.state]));

  test('When legal records a contract with its signed document, then the document is encrypted at rest, and a download is streamed, audited and sent as an attachment', async () => {
    const v = await makeVendor(t);
    const before = storedFiles(t).length;
    const res = await upload(u.legal.agent, `/vendors/${v.id}/contracts/new`, `/vendors/${v.id}/contracts/new`, { title: 'Master Services Agreement', type: 'msa', status: 'active', effectiveOn: '2024-02-01', expiresOn: '2027-01-31', signedOn: '2024-01-20', autoRenews: 'on', noticeDays: '90', amendsId: '', notes: '' }, { field: 'document', name: 'MSA signed.pdf', buffer: PDF });
    assert.equal(res.status, 303, res.text.slice(0, 500));
    const id = Number(/^\/contracts\/(\d+)$/.exec(res.headers.location!)![1]);
    const c = await t.ctx.contracts.get(id);
    assert.equal(c.vendorId, v.id);
    assert.equal(c.autoRenews, true);
    assert.equal(c.noticeDays, 90);
    assert.equal(c.noticeDeadline, '2026-11-02', 'expiry less 90 days');
    assert.equal(c.createdById, u.legal.user.id);
    const [file] = await t.ctx.ds.getRepository(ContractFile).find({ where: { contractId: id } });
    assert.equal(file!.kind, 'signed');
    assert.equal(file!.mediaType, 'application/pdf');
    assert.equal(file!.fileName, 'MSA signed.pdf');
    assert.equal(file!.sha256, crypto.createHash('sha256').update(PDF).digest('hex'));
    assert.equal(storedFiles(t).length, before + 1);
    const onDisk = fs.readFileSync(path.join(t.config.dataDir, 'contracts', file!.storedName));
    assert.equal(onDisk.includes(Buffer.from('%PDF')), false, 'no plaintext on disk');
    assert.equal((await audit('contract.created', 'contract', id))[0]!.details!.documentFileId, file!.id);
    assert.equal((await audit('vendor.contract_added', 'vendor', v.id))[0]!.details!.contractId, id);

    const dl = await u.viewer.agent.get(`/contracts/${id}/files/${file!.id}`).buffer(true).parse((r, cb) => binary(r as unknown as NodeJS.ReadableStream, cb));
    assert.equal(dl.status, 200);
    assert.ok((dl.body as Buffer).equals(PDF));
    assert.match(String(dl.headers['content-disposition']), /^attachment; filename="MSA signed\.pdf"/);
    assert.equal(dl.headers['x-content-type-options'], 'nosniff');
    assert.equal(dl.headers['content-type'], 'application/pdf');
    const [downloaded] = await audit('contract.document_downloaded', 'contract', id);
    assert.equal(downloaded!.actorLabel, u.viewer.email);
    assert.equal((await u.viewer.agent.get(`/contracts/${id}/files/999999`)).status, 404);
    const other = await makeContract(v.id, { title: 'Other' });
    assert.equal((await u.viewer.agent.get(`/contracts/${other.id}/files/${file!.id}`)).status, 404, "another contract's file is out of reach");

    const replaced = await upload(u.legal.agent, `/contracts/${id}`, `/contracts/${id}/document`, {}, { field: 'document', name: 'msa-v2.docx', buffer: DOCX });
    assert.equal(replaced.status, 303, replaced.text.slice(0, 300));
    assert.equal((await t.ctx.contracts.documents([id])).get(id)!.fileName, 'msa-v2.docx');
    const page = await u.viewer.agent.get(`/contracts/${id}`);
    assert.match(page.text, /msa-v2\.docx/);
    assert.match(page.text, /MSA signed\.pdf<\/a> <span class="hint">[^<]*\(replaced\)/);
  });

  test('When the document is not a PDF or Word file, or the dates do not hold, then the form comes back with each reason and what was typed, and nothing is kept', async () => {
    const v = await makeVendor(t);
    const before = { contracts: await t.ctx.ds.getRepository(Contract).count(), files: storedFiles(t).length };
    const form = { title: 'Data Processing Addendum', type: 'dpa', status: 'active', effectiveOn: '2024-02-01', expiresOn: '', signedOn: '', noticeDays: '', amendsId: '', notes: 'kept note' };
    const exe = await upload(u.legal.agent, `/vendors/${v.id}/contracts/new`, `/vendors/${v.id}/contracts/new`, form, { field: 'document', name: 'contract.pdf', buffer: EXE });
    assert.equal(exe.status, 400);
    assert.match(exe.text, /“contract\.pdf” was not accepted: upload a PDF or Word \(\.docx\) document \(the file&#39;s content decides, not its name\)/);
    assert.match(exe.text, />kept note<\/textarea>/);
    assert.match(exe.text, /value="Data Processing Addendum"/);

    const dates = await upload(u.legal.agent, `/vendors/${v.id}/contracts/new`, `/vendors/${v.id}/contracts/new`, { ...form, effectiveOn: '2024-02-01', expiresOn: '2024-01-31', autoRenews: 'on', signedOn: '2030-01-01' });
    assert.equal(dates.status, 400);
    assert.match(dates.text, /Expiry date must be after the effective date \(2024-02-01\)\./);
    assert.match(dates.text, /A notice period is required when the contract renews automatically\./);
    assert.match(dates.text, /Signed on cannot be in the future\./);
    const same = await upload(u.legal.agent, `/vendors/${v.id}/contracts/new`, `/vendors/${v.id}/contracts/new`, { ...form, expiresOn: '2024-02-01' });
    assert.equal(same.status, 400, 'expiring the day it takes effect is refused too');
    const noStart = await upload(u.legal.agent, `/vendors/${v.id}/contracts/new`, `/vendors/${v.id}/contracts/new`, { ...form, effectiveOn: '' });
    assert.equal(noStart.status, 400);
    assert.match(noStart.text, /An effective date is required unless the contract is a draft\./);
    const badValues = await upload(u.legal.agent, `/vendors/${v.id}/contracts/new`, `/vendors/${v.id}/contracts/new`, { ...form, title: '', type: 'lease', noticeDays: '-3', effectiveOn: '2024-02-30' });
    assert.equal(badValues.status, 400);
    for (const reason of ['Title is required.', 'Type must be one of: msa, dpa, sow, baa, nda, other.', 'Notice period cannot be negative.', 'Effective date must be a date as YYYY-MM-DD.']) assert.ok(badValues.text.includes(reason), reason);
    assert.equal(await t.ctx.ds.getRepository(Contract).count(), before.contracts);
    assert.equal(storedFiles(t).length, before.files, 'the refused upload left no file behind');

    const draft = await upload(u.legal.agent, `/vendors/${v.id}/contracts/new`, `/vendors/${v.id}/contracts/new`, { ...form, status: 'draft', effectiveOn: '' });
    assert.equal(draft.status, 303, 'a draft needs no effective date');
    await assert.rejects(() => t.ctx.contracts.create(actorFor(u.legal), v.id, contractInput({ effectiveOn: '2025-05-01', expiresOn: '2025-04-30' })), /Some fields need attention/);
  });

  test('When a contract is edited, then the rules still hold, only changed fields are audited, and it may amend only another contract of the same vendor', async () => {
    const v = await makeVendor(t);
    const msa = await makeContract(v.id, { expiresOn: '2026-12-31', noticeDays: 30 });
    const edit = { title: 'Master Services Agreement', type: 'msa', status: 'active', effectiveOn: '2024-01-01', expiresOn: '2027-06-30', signedOn: '', noticeDays: '30', amendsId: '', notes: '' };
    const ok = await submit(u.legal.agent, `/contracts/${msa.id}`, `/contracts/${msa.id}`, edit);
    assert.equal(ok.status, 303, ok.text.slice(0, 500));
    const [entry] = await audit('contract.updated', 'contract', msa.id);
    assert.deepEqual(entry!.changes, { expiresOn: ['2026-12-31', '2027-06-30'], noticeDeadline: ['2026-12-01', '2027-05-31'] });
    const bad = await submit(u.legal.agent, `/contracts/${msa.id}`, `/contracts/${msa.id}`, { ...edit, expiresOn: '2023-12-31' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Expiry date must be after the effective date/);
    assert.match(bad.text, /<details class="inline-details" open>\s*<summary>Edit the contract's details/);
    assert.equal((await t.ctx.contracts.get(msa.id)).expiresOn, '2027-06-30');

    const self = await submit(u.legal.agent, `/contracts/${msa.id}`, `/contracts/${msa.id}`, { ...edit, amendsId: String(msa.id) });
    assert.equal(self.status, 400);
    assert.match(self.text, /A contract cannot amend itself\./);
    const stranger = await makeContract((await makeVendor(t)).id);
    const foreign = await submit(u.legal.agent, `/contracts/${msa.id}`, `/contracts/${msa.id}`, { ...edit, amendsId: String(stranger.id) });
    assert.equal(foreign.status, 400);
    assert.match(foreign.text, /must be another contract of the same vendor/);
    const sow = await makeContract(v.id, { title: 'SOW 1', type: 'sow', amendsId: msa.id });
    const loop = await submit(u.legal.agent, `/contracts/${msa.id}`, `/contracts/${msa.id}`, { ...edit, amendsId: String(sow.id) });
    assert.equal(loop.status, 400);
    assert.match(loop.text, /already amends this one/);
    const page = await u.viewer.agent.get(`/contracts/${msa.id}`);
    assert.match(page.text, /Amended by<\/dt><dd><a href="\/contracts\/\d+">SOW 1<\/a>/);
  });

  test('When a contract was signed no later than 2010-03-01, then its page carries the note that the grandfathering ended on 2012-03-01', async () => {
    const v = await makeVendor(t);
    const legacy = await makeContract(v.id, { signedOn: '2009-11-20', effectiveOn: '2010-01-01' });
    const modern = await makeContract(v.id, { signedOn: '2010-03-02', effectiveOn: '2010-04-01' });
    const page = await u.viewer.agent.get(`/contracts/${legacy.id}`);
    assert.match(page.text, /<span class="tag tag-warn">Legacy contract<\/span>/);
    assert.match(page.text, /Entered into no later than March 1, 2010: under 201 CMR 17\.03\(2\)\(f\) such a contract was deemed compliant [^<]* only until March 1, 2012, when that grandfathering ended\./);
    assert.doesNotMatch((await u.viewer.agent.get(`/contracts/${modern.id}`)).text, /grandfathering ended/);
    const list = await u.viewer.agent.get(`/contracts?vendor=${v.id}`);
    assert.equal((list.text.match(/<span class="tag tag-warn">Legacy<\/span>/g) ?? []).length, 1);
  });

  test('When the checklist is saved, then each clause needs what its status asks for, only changes are written and audited, and not reviewed clears a review', async () => {
    const v = await makeVendor(t);
    const c = await makeContract(v.id);
    const page = await u.legal.agent.get(`/contracts/${c.id}`);
    for (const id of ALL_WITH_PI) assert.match(page.text, new RegExp(`<label class="visually-hidden" for="field-status__${id}">Status of ${id}</label>`));
    assert.doesNotMatch(page.text, /name="status__CL-SUBK"/, 'CL-SUBK does not apply to a vendor without subprocessors');
    assert.match(page.text, /CL-SUBK<\/strong> Subcontractor flow-down \(applies when the vendor can reach personal information and has subprocessors\.\)/);
    const _csrf = csrfFrom(page.text);
    const post = (states: Record<string, [string, string?, string?]>) => u.legal.agent.post(`/contracts/${c.id}/clauses`).type('form').send({ _csrf, ...clauseForm(states) });

    const bad = await post({ 'CL-SEC': ['present', ''], 'CL-DISP': ['partial', '§9', ''], 'CL-TERM': ['not_applicable'], 'CL-BRN': ['missing', '', 'typed note'], 'CL-LAW': ['maybe'] });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /CL-SEC: give the section where the contract says it, such as §12\.3\./);
    assert.match(bad.text, /CL-DISP: say what is missing from the clause\./);
    assert.match(bad.text, /CL-TERM: give the reason it does not apply to this contract\./);
    assert.match(bad.text, /CL-LAW: Status must be one of/);
    assert.match(bad.text, /id="field-note__CL-BRN" name="note__CL-BRN" value="typed note"/, 'what was typed stays');
    assert.match(bad.text, /<option value="partial" selected>Partial<\/option>/);
    assert.equal(await t.ctx.ds.getRepository(ContractClause).countBy({ contractId: c.id }), 0, 'nothing saved');

    const ok = await post({ 'CL-SEC': ['present', '§12.3'], 'CL-DISP': ['partial', '§9', 'No deadline for destruction'], 'CL-TERM': ['not_applicable', '', 'Termination is in the MSA'], 'CL-BRN': ['missing'] });
    assert.equal(ok.status, 303, ok.text.slice(0, 300));
    const rows = new Map((await t.ctx.ds.getRepository(ContractClause).findBy({ contractId: c.id })).map((r) => [r.clauseId, r]));
    assert.equal(rows.get('CL-SEC')!.reference, '§12.3');
    assert.equal(rows.get('CL-DISP')!.note, 'No deadline for destruction');
    assert.equal(rows.get('CL-BRN')!.status, 'missing');
    assert.equal(rows.get('CL-SEC')!.reviewedById, u.legal.user.id);
    const entries = await audit('contract.clause_reviewed', 'contract', c.id);
    assert.equal(entries.length, 4);
    assert.deepEqual(entries.find((e) => e.details!.clauseId === 'CL-SEC')!.changes, { status: ['not_reviewed', 'present'], reference: [null, '§12.3'] });

    await travel(DAY);
    const again = await u.legal.agent.post(`/contracts/${c.id}/clauses`).type('form').send({ _csrf: await tokenFor(u.legal.agent, `/contracts/${c.id}`), ...clauseForm({ 'CL-SEC': ['present', '§12.3'], 'CL-BRN': ['not_reviewed'] }) });
    assert.equal(again.status, 303);
    assert.equal((await audit('contract.clause_reviewed', 'contract', c.id)).length, 5, 'the unchanged clause wrote nothing');
    assert.equal(await t.ctx.ds.getRepository(ContractClause).countBy({ contractId: c.id, clauseId: 'CL-BRN' }), 0);
    const shown = await u.viewer.agent.get(`/contracts/${c.id}`);
    assert.match(shown.text, /<span class="tag cs-partial">Partial<\/span><\/td>\s*<td>§9<\/td>/);
    assert.doesNotMatch(shown.text, /action="\/contracts\/\d+\/clauses"/, 'a viewer sees no form');
  });

  test('When procurement, reviewers or viewers try to change contracts, then they are refused, and they can read everything', async () => {
    const v = await makeVendor(t);
    const c = await makeContract(v.id);
    const a = await openAmendment(v.id, c.id, { 'CL-BRN': { status: 'missing' } });
    for (const role of ['procurement', 'reviewer', 'viewer'] as const) {
      for (const p of [`/contracts/${c.id}`, `/vendors/${v.id}/coverage`, '/contracts', '/contracts/matrix', '/contracts/amendments', `/contracts/amendments/${a.id}`]) {
        assert.equal((await u[role].agent.get(p)).status, 200, `${role} reads ${p}`);
      }
      const _csrf = csrfFrom((await u[role].agent.get(`/contracts/${c.id}`)).text);
      for (const p of [`/vendors/${v.id}/contracts/new`, `/contracts/${c.id}`, `/contracts/${c.id}/clauses`, `/contracts/${c.id}/document`, `/vendors/${v.id}/amendments/new`, `/contracts/amendments/${a.id}`, `/contracts/amendments/${a.id}/status`, `/contracts/amendments/${a.id}/execute`, `/contracts/amendments/${a.id}/comments`, `/contracts/amendments/${a.id}/files`]) {
        const res = await u[role].agent.post(p).type('form').send({ _csrf, title: 'x', to: 'sent', body: 'x', ...clauseForm({ 'CL-SEC': ['present', '§1'] }) });
        assert.equal(res.status, 403, `${role} POST ${p}`);
      }
      assert.equal((await u[role].agent.get(`/vendors/${v.id}/contracts/new`)).status, 403);
      assert.equal((await u[role].agent.get('/admin/clauses')).status, role === 'viewer' ? 200 : 403, `${role} GET /admin/clauses`);
    }
    assert.equal((await t.ctx.amendments.get(a.id)).status, 'drafted');
    assert.equal(await t.ctx.ds.getRepository(ContractClause).countBy({ contractId: c.id, status: 'present' }), 7);
    const anonymous = await request(t.app).get('/contracts/matrix');
    assert.equal(anonymous.status, 303);
    assert.match(anonymous.headers.location!, /^\/login\?returnTo=/);
    const forged = await u.legal.agent.post(`/vendors/${v.id}/contracts/new`).field('title', 'Forged').field('type', 'msa').field('effectiveOn', '2024-01-01');
    assert.equal(forged.status, 403, 'a multipart form without the token in its address is refused');
    assert.equal((await u.viewer.agent.get('/contracts/999999')).status, 404);
    assert.equal((await u.viewer.agent.get('/contracts/amendments/abc')).status, 404);
  });

  test('When a vendor has several active contracts, then its coverage combines them clause by clause, and drafts and terminated contracts do not count', async () => {
    const v = await makeVendor(t);
    const msa = await makeContract(v.id, { title: 'MSA' });
    const dpa = await makeContract(v.id, { title: 'DPA', type: 'dpa' });
    await review(msa.id, { 'CL-BRN': { status: 'missing' }, 'CL-DISP': { status: 'partial', note: 'no deadline' }, 'CL-AUDIT': { status: 'missing' }, 'CL-TERM': { status: 'missing' }, 'CL-INDEM': { status: 'not_applicable', note: 'in the DPA' }, 'CL-LAW': { status: 'not_applicable', note: 'x' } });
    await review(dpa.id, { 'CL-BRN': { status: 'present', reference: 'DPA §4' }, 'CL-DISP': { status: 'missing' }, 'CL-AUDIT': { status: 'not_reviewed' }, 'CL-TERM': { status: 'missing' }, 'CL-INDEM': { status: 'not_applicable', note: 'in the MSA' }, 'CL-LAW': { status: 'missing' } });
    const draft = await makeContract(v.id, { title: 'Draft', status: 'draft' });
    await review(draft.id);
    const ended = await makeContract(v.id, { title: 'Old', status: 'terminated' });
    await review(ended.id);
    const states = await stateOf(v.id);
    assert.equal(states.get('CL-BRN'), 'present', 'present in the DPA covers the MSA');
    assert.equal(states.get('CL-DISP'), 'partial');
    assert.equal(states.get('CL-AUDIT'), 'not_reviewed', 'the DPA may still hold it');
    assert.equal(states.get('CL-TERM'), 'missing');
    assert.equal(states.get('CL-INDEM'), 'not_applicable');
    assert.equal(states.get('CL-LAW'), 'missing', 'one contract saying not applicable does not cover the other');
    assert.equal(states.get('CL-SEC'), 'present');
    const cov = await t.ctx.contracts.vendorCoverage(v.id);
    assert.deepEqual(cov.activeContracts.map((c) => c.title), ['MSA', 'DPA']);
    assert.equal(cov.percent, 42, '3 covered (SEC, BRN, CERT) of 7 counted');
    const page = await u.viewer.agent.get(`/vendors/${v.id}/coverage`);
    assert.match(page.text, /<strong data-coverage="42">42%<\/strong>/);
    assert.match(page.text, /Contracts that do not count/);
    const vendorPage = await u.viewer.agent.get(`/vendors/${v.id}`);
    assert.match(vendorPage.text, /<h2 id="contracts-title">Contracts and clause coverage<\/h2>/);
    assert.match(vendorPage.text, /<strong>42%<\/strong> of 8 applicable clauses/);
    assert.match(vendorPage.text, /<abbr title="Termination for security breach">CL-TERM<\/abbr> <span class="tag cs-missing">missing<\/span>/);

    await t.ctx.vendors.addSubprocessor(systemActor('test'), v.id, { name: 'Cloud Host', purpose: 'Hosting' });
    assert.equal((await stateOf(v.id)).get('CL-SUBK'), 'not_reviewed', 'with a subprocessor CL-SUBK applies, unreviewed');
    const none = await makeVendor(t, { piElements: [], recordVolume: 'none', accessModes: [] });
    assert.equal((await t.ctx.contracts.vendorCoverage(none.id)).percent, null, 'no clause applies without personal information');
    const bare = await makeVendor(t);
    assert.equal((await stateOf(bare.id)).get('CL-SEC'), 'no_contract');
    assert.equal((await t.ctx.contracts.vendorCoverage(bare.id)).percent, 0);
  });

  /** A contract reviewed all present but for `gaps`, and an amendment request opened on the gaps through the form. */
  async function openAmendment(vendorId: number, contractId: number, gaps: Gaps, fields: Record<string, string> = {}) {
    await review(contractId, gaps);
    const items = Object.keys(gaps).map((id) => `${contractId}:${id}`);
    const page = await u.legal.agent.get(`/vendors/${vendorId}/amendments/new?${new URLSearchParams(items.map((i): [string, string] => ['items', i])).toString()}`);
    assert.equal(page.status, 200);
    const res = await u.legal.agent
      .post(`/vendors/${vendorId}/amendments/new`)
      .type('form')
      .send(new URLSearchParams([['_csrf', csrfFrom(page.text)], ...items.map((i): [string, string] => ['items', i]), ['ownerId', String(u.legal.user.id)], ['targetDate', '2026-04-01'], ...Object.entries(fields)]).toString());
    assert.equal(res.status, 303, res.text.slice(0, 800));
    return t.ctx.amendments.get(Number(/\/contracts\/amendments\/(\d+)$/.exec(res.headers.location!)![1]));
  }

  test('When an amendment request is opened, then it covers the chosen missing or partial clauses, and a clause cannot be in two open requests', async () => {
    const v = await makeVendor(t);
    const msa = await makeContract(v.id, { title: 'MSA' });
    const dpa = await makeContract(v.id, { title: 'DPA', type: 'dpa' });
    await review(dpa.id, { 'CL-DISP': { status: 'missing' } });
    const a = await openAmendment(v.id, msa.id, { 'CL-BRN': { status: 'missing' }, 'CL-DISP': { status: 'partial', note: 'no deadline' } }, { comment: 'Start with the MSA.' });
    assert.equal(a.status, 'drafted');
    assert.equal(a.title, 'Add CL-DISP, CL-BRN to MSA', 'clauses in catalogue order');
    assert.equal(a.ownerId, u.legal.user.id);
    const items = await t.ctx.ds.getRepository(AmendmentItem).find({ where: { amendmentId: a.id }, order: { clauseId: 'ASC' } });
    assert.deepEqual(items.map((i) => [i.contractId, i.clauseId, i.statusAtOpening]), [[msa.id, 'CL-BRN', 'missing'], [msa.id, 'CL-DISP', 'partial']]);
    const [opened] = await audit('amendment.opened', 'amendment', a.id);
    assert.equal(opened!.actorLabel, u.legal.email);
    assert.ok((await audit('vendor.amendment_opened', 'vendor', v.id)).length === 1);
    assert.equal((await t.ctx.amendments.comments(a.id))[0]!.body, 'Start with the MSA.');

    const again = await t.ctx.amendments.open(actorFor(u.legal2), v.id, { items: [{ contractId: msa.id, clauseId: 'CL-BRN' }] }).catch((e: Error & { status?: number }) => e);
    assert.equal((again as { status?: number }).status, 409);
    assert.match((again as Error).message, new RegExp(`CL-BRN of “MSA” is already part of open amendment request #${a.id}\\.`));
    const present = await t.ctx.amendments.open(actorFor(u.legal), v.id, { items: [{ contractId: msa.id, clauseId: 'CL-SEC' }] }).catch((e: Error & { status?: number }) => e);
    assert.equal((present as { status?: number }).status, 400, 'a present clause cannot be amended');
    const foreign = await makeContract((await makeVendor(t)).id);
    const other = await t.ctx.amendments.open(actorFor(u.legal), v.id, { items: [{ contractId: foreign.id, clauseId: 'CL-SEC' }] }).catch((e: Error & { status?: number }) => e);
    assert.equal((other as { status?: number }).status, 400, "another vendor's contract cannot join");

    const page = await u.legal.agent.get(`/vendors/${v.id}/amendments/new`);
    assert.match(page.text, new RegExp(`value="${msa.id}:CL-BRN" disabled>`), 'the clause under request is shown, not selectable');
    assert.match(page.text, new RegExp(`value="${dpa.id}:CL-DISP" checked>`), 'the remaining gap is offered');
    const none = await submit(u.legal.agent, `/vendors/${v.id}/amendments/new`, `/vendors/${v.id}/amendments/new`, { targetDate: '2026-01-01', ownerId: '' });
    assert.equal(none.status, 400);
    assert.match(none.text, /Choose at least one missing or partial clause\./);
    const past = await u.legal.agent.post(`/vendors/${v.id}/amendments/new`).type('form').send({ _csrf: csrfFrom(page.text), items: `${dpa.id}:CL-DISP`, targetDate: '2026-03-01', title: 'Kept title' });
    assert.equal(past.status, 400);
    assert.ok(past.text.includes(`Target date cannot be in the past (today is ${t.ctx.amendments.today()}).`));
    assert.match(past.text, /value="Kept title"/);
    const contractPage = await u.viewer.agent.get(`/contracts/${msa.id}`);
    assert.match(contractPage.text, new RegExp(`under <a href="/contracts/amendments/${a.id}">amendment request #${a.id}</a>`));
  });

  test('When an amendment moves, then only the next step is allowed, each step is dated and audited, and execution marks its clauses present once', async () => {
    await travel(START);
    const v = await makeVendor(t);
    const msa = await makeContract(v.id, { title: 'MSA' });
    const dpa = await makeContract(v.id, { title: 'DPA', type: 'dpa' });
    await review(dpa.id, { 'CL-BRN': { status: 'missing' } });
    await review(msa.id, { 'CL-BRN': { status: 'missing' }, 'CL-DISP': { status: 'missing' } });
    // One request for two contracts of the vendor.
    const a = await t.ctx.amendments.open(actorFor(u.legal), v.id, {
      items: [{ contractId: msa.id, clauseId: 'CL-BRN' }, { contractId: dpa.id, clauseId: 'CL-BRN' }, { contractId: msa.id, clauseId: 'CL-DISP' }],
      ownerId: u.legal.user.id,
      targetDate: '2026-04-01',
    });
    assert.equal(a.title, 'Add CL-DISP, CL-BRN to MSA and 1 more contract');
    const move = (to: string, reason = '') => submit(u.legal.agent, `/contracts/amendments/${a.id}`, `/contracts/amendments/${a.id}/status`, { to, reason });
    const all = (await t.ctx.amendments.items([a.id])).get(a.id)!;
    const items = [all.find((i) => i.clauseId === 'CL-BRN' && i.contractId === msa.id)!, all.find((i) => i.clauseId === 'CL-DISP')!, all.find((i) => i.contractId === dpa.id)!];
    const execute = (refs: Record<number, string>, file?: { name: string; buffer: Buffer }) =>
      upload(u.legal.agent, `/contracts/amendments/${a.id}`, `/contracts/amendments/${a.id}/execute`, Object.fromEntries(Object.entries(refs).map(([k, v]) => [`reference__${k}`, v])), file ? { field: 'document', ...file } : undefined);

    const skip = await move('negotiating');
    assert.equal(skip.status, 409);
    assert.match(skip.text, /An amendment request cannot move from Drafted to In negotiation; from Drafted it can move to Sent to vendor, Withdrawn\./);
    const early = await execute({ [items[0]!.id]: '§1', [items[1]!.id]: '§2', [items[2]!.id]: '§3' }, { name: 'x.pdf', buffer: PDF });
    assert.equal(early.status, 409, 'no execution before negotiation');
    assert.match(early.text, /cannot move from Drafted to Executed/);

    await travel(DAY);
    assert.equal((await move('sent')).status, 303);
    const sentAt = t.clock.now().toISOString();
    const viaStatus = await move('executed');
    assert.equal(viaStatus.status, 409, 'from Sent, execution would skip the negotiation');
    await travel(2 * DAY);
    assert.equal((await move('negotiating')).status, 303);
    const negotiatingAt = t.clock.now().toISOString();
    const byStatus = await move('executed');
    assert.equal(byStatus.status, 400, 'executing needs the document');
    assert.match(byStatus.text, /Executing needs the executed document and the section of each clause: use the execute form\./);

    const missing = await execute({ [items[0]!.id]: '§14.2' });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /CL-DISP: give the section of the executed amendment that adds it, such as §14\.2\./);
    assert.match(missing.text, /Upload the executed amendment \(a PDF or Word document\)\./);
    assert.match(missing.text, new RegExp(`name="reference__${items[0]!.id}" type="text" value="§14\\.2"`), 'what was typed stays');
    const exe = await execute({ [items[0]!.id]: '§14.2', [items[1]!.id]: '§14.3', [items[2]!.id]: 'DPA §2' }, { name: 'signed.pdf', buffer: EXE });
    assert.equal(exe.status, 400);
    assert.match(exe.text, /“signed\.pdf” was not accepted/);
    assert.equal((await t.ctx.amendments.get(a.id)).status, 'negotiating');

    await travel(DAY);
    const done = await execute({ [items[0]!.id]: ' §14.2 ', [items[1]!.id]: '§14.3', [items[2]!.id]: 'DPA §2' }, { name: 'Amendment 1 executed.pdf', buffer: PDF });
    assert.equal(done.status, 303, done.text.slice(0, 500));
    const executed = await t.ctx.amendments.get(a.id);
    assert.equal(executed.status, 'executed');
    assert.equal(executed.sentAt!.toISOString(), sentAt);
    assert.equal(executed.negotiatingAt!.toISOString(), negotiatingAt);
    assert.equal(executed.closedAt!.toISOString(), t.clock.now().toISOString());
    const rows = new Map((await t.ctx.ds.getRepository(ContractClause).findBy({ contractId: msa.id })).map((r) => [r.clauseId, r]));
    assert.equal(rows.get('CL-BRN')!.status, 'present');
    assert.equal(rows.get('CL-BRN')!.reference, '§14.2');
    assert.equal(rows.get('CL-BRN')!.amendmentId, a.id);
    assert.match(rows.get('CL-DISP')!.note!, new RegExp(`Added by amendment request #${a.id}, executed 2026-03-06\\.`));
    const dpaRow = await t.ctx.ds.getRepository(ContractClause).findOneByOrFail({ contractId: dpa.id, clauseId: 'CL-BRN' });
    assert.deepEqual([dpaRow.status, dpaRow.reference, dpaRow.amendmentId], ['present', 'DPA §2', a.id], 'the second contract got its clause too');
    const files = await t.ctx.amendments.files(a.id);
    assert.deepEqual(files.map((f) => [f.kind, f.fileName]), [['executed', 'Amendment 1 executed.pdf']]);
    assert.deepEqual((await audit('amendment.executed', 'amendment', a.id))[0]!.changes, { status: ['negotiating', 'executed'] });
    assert.deepEqual((await audit('amendment.sent', 'amendment', a.id))[0]!.changes, { status: ['drafted', 'sent'] });
    assert.ok((await audit('contract.clause_reviewed', 'contract', msa.id)).some((e) => e.details!.amendmentId === a.id && e.details!.clauseId === 'CL-DISP'));
    assert.equal((await t.ctx.contracts.vendorCoverage(v.id)).percent, 100);

    const twice = await execute({ [items[0]!.id]: '§1', [items[1]!.id]: '§2', [items[2]!.id]: '§3' }, { name: 'again.pdf', buffer: PDF });
    assert.equal(twice.status, 409, 'no execution twice');
    assert.match(twice.text, /This amendment request is Executed: that is final/);
    assert.equal((await move('withdrawn', 'changed our mind')).status, 409);
    assert.equal((await t.ctx.amendments.files(a.id)).length, 1);
    const page = await u.viewer.agent.get(`/contracts/amendments/${a.id}`);
    assert.match(page.text, /<dt>Sent to vendor<\/dt><dd>2026-03-03 09:00 UTC<\/dd>/);
    assert.match(page.text, /<dt>In negotiation<\/dt><dd>2026-03-05 09:00 UTC<\/dd>/);
    assert.match(page.text, /<dt>Executed<\/dt><dd>2026-03-06 09:00 UTC<\/dd>/);
  });

  test('When the vendor refuses, then a reason is required and a finding "missing contractual safeguard" citing 17.03(2)(f)(2) is opened, moving the residual rating in the same transaction', async () => {
    const v = await makeVendor(t, { piElements: ['ssn'], recordVolume: '1k_10k', accessModes: ['stores'] });
    await t.ctx.ds.getRepository(Vendor).update({ id: v.id }, { lastScore: 90, residualRating: 'low' });
    const c = await makeContract(v.id);
    const a = await openAmendment(v.id, c.id, { 'CL-BRN': { status: 'missing' }, 'CL-CERT': { status: 'missing' } });
    await t.ctx.amendments.transition(actorFor(u.legal), a.id, 'sent');
    const noReason = await submit(u.legal.agent, `/contracts/amendments/${a.id}`, `/contracts/amendments/${a.id}/status`, { to: 'refused', reason: '' });
    assert.equal(noReason.status, 400);
    assert.match(noReason.text, /A reason is required when the request is refused\./);
    const res = await submit(u.legal.agent, `/contracts/amendments/${a.id}`, `/contracts/amendments/${a.id}/status`, { to: 'refused', reason: 'Vendor will not notify within 72 hours.' });
    assert.equal(res.status, 303);
    const refused = await t.ctx.amendments.get(a.id);
    assert.equal(refused.status, 'refused');
    assert.equal(refused.closingReason, 'Vendor will not notify within 72 hours.');
    const f = await t.ctx.ds.getRepository(Finding).findOneByOrFail({ id: refused.findingId! });
    assert.equal(f.vendorId, v.id);
    assert.equal(f.source, 'manual');
    assert.equal(f.status, 'open');
    assert.equal(f.createdById, u.legal.user.id);
    assert.equal(f.citation, '201 CMR 17.03(2)(f)(2)');
    assert.equal(f.severity, 'high', 'the worst of the refused clauses (CL-BRN high, CL-CERT low)');
    assert.equal(f.title, 'Missing contractual safeguard: CL-BRN Breach notification, CL-CERT Written certification');
    assert.match(f.description!, /CL-CERT Written certification \(Best practice\) — best practice, not required by 201 CMR 17\.00/);
    assert.match(f.description!, /Reason given: Vendor will not notify within 72 hours\./);
    assert.equal((await audit('finding.created', 'finding', f.id))[0]!.details!.amendmentId, a.id);
    assert.equal((await audit('vendor.finding_added', 'vendor', v.id))[0]!.details!.findingId, f.id);
    assert.equal((await audit('amendment.refused', 'amendment', a.id))[0]!.details!.findingId, f.id);
    assert.equal((await t.ctx.vendors.get(v.id)).residualRating, 'high', 'high tier with an open high finding');
    const page = await u.viewer.agent.get(`/contracts/amendments/${a.id}`);
    assert.match(page.text, new RegExp(`<a href="/findings/${f.id}">Finding #${f.id}: missing contractual safeguard</a>`));
    const accept = await submit(u.reviewer.agent, `/findings/${f.id}`, `/findings/${f.id}/accept-risk`, { reason: 'Compensating monitoring in place', expiresOn: '2026-12-31' });
    assert.equal(accept.status, 303, 'reviewers take the risk decision on it');
    assert.equal((await audit('amendment.refused', 'amendment', a.id)).length, 1);

    const c2 = await makeContract(v.id, { title: 'Cert only' });
    await review(c2.id, { 'CL-CERT': { status: 'missing' } });
    const b = await t.ctx.amendments.open(actorFor(u.legal), v.id, { items: [{ contractId: c2.id, clauseId: 'CL-CERT' }] });
    await t.ctx.amendments.transition(actorFor(u.legal), b.id, 'sent');
    const rb = await t.ctx.amendments.transition(actorFor(u.legal), b.id, 'refused', 'No yearly letters.');
    const fb = await t.ctx.ds.getRepository(Finding).findOneByOrFail({ id: rb.findingId! });
    assert.equal(fb.citation, 'Best practice (not required by 201 CMR 17.00)', 'a refused best-practice clause never cites 17.00');
    assert.equal(fb.severity, 'low');
  });

  test('When a request is withdrawn, then its clauses can be requested again; comments and redlines are kept, audited and downloadable', async () => {
    const v = await makeVendor(t);
    const c = await makeContract(v.id);
    const a = await openAmendment(v.id, c.id, { 'CL-TERM': { status: 'missing' } });
    const comment = await submit(u.legal2.agent, `/contracts/amendments/${a.id}`, `/contracts/amendments/${a.id}/comments`, { body: 'Vendor counsel asks for a 60-day cure period.' });
    assert.equal(comment.status, 303);
    const empty = await submit(u.legal2.agent, `/contracts/amendments/${a.id}`, `/contracts/amendments/${a.id}/comments`, { body: '  ' });
    assert.equal(empty.status, 400);
    assert.match(empty.text, /Comment is required\./);
    const redline = await upload(u.legal.agent, `/contracts/amendments/${a.id}`, `/contracts/amendments/${a.id}/files`, {}, { field: 'file', name: 'redline v1.docx', buffer: DOCX });
    assert.equal(redline.status, 303, redline.text.slice(0, 300));
    const [file] = await t.ctx.amendments.files(a.id);
    assert.equal(file!.kind, 'redline');
    assert.equal((await audit('amendment.file_uploaded', 'amendment', a.id)).length, 1);
    const dl = await u.viewer.agent.get(`/contracts/amendments/${a.id}/files/${file!.id}`).buffer(true).parse((r, cb) => binary(r as unknown as NodeJS.ReadableStream, cb));
    assert.equal(dl.status, 200);
    assert.ok((dl.body as Buffer).equals(DOCX));
    assert.equal(dl.headers['content-type'], 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    assert.equal((await audit('amendment.file_downloaded', 'amendment', a.id)).length, 1);
    const page = await u.viewer.agent.get(`/contracts/amendments/${a.id}`);
    assert.match(page.text, new RegExp(`<strong>${u.legal2.user.name}</strong> · 2026-03-\\d\\d \\d\\d:\\d\\d UTC</p><p class="pre-line">Vendor counsel asks for a 60-day cure period\\.</p>`));
    assert.match(page.text, /amendment\.commented/);

    const noReason = await t.ctx.amendments.transition(actorFor(u.legal), a.id, 'withdrawn').catch((e: { status?: number }) => e);
    assert.equal((noReason as { status?: number }).status, 400);
    await t.ctx.amendments.transition(actorFor(u.legal), a.id, 'withdrawn', 'Renegotiating the whole MSA instead.');
    const late = await upload(u.legal.agent, `/contracts/amendments/${a.id}`, `/contracts/amendments/${a.id}/files`, {}, { field: 'file', name: 'late.pdf', buffer: PDF });
    assert.equal(late.status, 409, 'no attachments once closed');
    const b = await t.ctx.amendments.open(actorFor(u.legal), v.id, { items: [{ contractId: c.id, clauseId: 'CL-TERM' }] });
    assert.equal(b.status, 'drafted', 'the clause is free again');
  });

  test('When open requests are listed, then they show age, owner and an overdue flag, filter by owner, status and overdue, and export as CSV', async () => {
    await travel(START);
    const v = await makeVendor(t, { legalName: 'Listed Amendments Co' });
    const c = await makeContract(v.id);
    const a = await openAmendment(v.id, c.id, { 'CL-AUDIT': { status: 'missing' }, 'CL-LAW': { status: 'partial', note: 'only federal law' } });
    await t.ctx.amendments.update(actorFor(u.legal), a.id, { targetDate: '2026-03-20' });
    const before = await u.viewer.agent.get(`/contracts/amendments?vendor=${v.id}`);
    assert.match(before.text, new RegExp(`#${a.id} Add CL-LAW, CL-AUDIT to Master Services Agreement`));
    assert.doesNotMatch(before.text, /tag-bad">Overdue/);
    await travel(20 * DAY);
    const list = await u.viewer.agent.get(`/contracts/amendments?vendor=${v.id}&overdue=true`);
    assert.equal(list.status, 200);
    assert.match(list.text, /2026-03-20 <span class="tag tag-bad">Overdue<\/span>/);
    assert.match(list.text, /data-age="20">20 days/);
    assert.match(list.text, new RegExp(`<td>${u.legal.user.name}</td>`));
    assert.match((await u.viewer.agent.get(`/contracts/amendments?vendor=${v.id}&overdue=false`)).text, /0 requests\./);
    assert.match((await u.viewer.agent.get(`/contracts/amendments?vendor=${v.id}&owner=${u.legal2.user.id}`)).text, /0 requests\./);
    assert.match((await u.viewer.agent.get(`/contracts/amendments?vendor=${v.id}&owner=${u.legal.user.id}`)).text, /1 request\./);
    assert.equal((await u.viewer.agent.get('/contracts/amendments?overdue=maybe')).status, 400);

    const csv = await u.viewer.agent.get(`/contracts/amendments.csv?vendor=${v.id}`);
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers['content-disposition']), /attachment; filename="amendment-requests-2026-03-22\.csv"/);
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\n');
    assert.equal(lines[0], 'id,vendor_id,vendor,title,status,clauses,contracts,owner,target_date,overdue,age_days,opened_at,sent_at,negotiating_at');
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, new RegExp(`^${a.id},${v.id},Listed Amendments Co,"?Add CL-LAW, CL-AUDIT to Master Services Agreement"?,drafted,CL-LAW;CL-AUDIT,1,${u.legal.user.name},2026-03-20,yes,20,`));

    await t.ctx.amendments.transition(actorFor(u.legal), a.id, 'withdrawn', 'no longer needed');
    assert.match((await u.viewer.agent.get(`/contracts/amendments?vendor=${v.id}`)).text, /0 requests\./, 'closed requests leave the open list');
    assert.match((await u.viewer.agent.get(`/contracts/amendments?vendor=${v.id}&status=all`)).text, /1 request\./);
    assert.equal(csvRows(await u.viewer.agent.get(`/contracts/amendments.csv?vendor=${v.id}&status=withdrawn`)), 1);
    await travel(START);
  });

  test('When due dates are asked for, then active contracts inside their notice lead time and open requests past their target date are returned with stable keys', async () => {
    const v = await makeVendor(t, { legalName: 'Due Dates Ltd' });
    const c = await makeContract(v.id, { title: 'Renewing MSA', expiresOn: '2026-06-30', noticeDays: 60, autoRenews: true });
    await makeContract(v.id, { title: 'Expired one', status: 'expired', expiresOn: '2026-04-01' });
    const mine = async (today: string) => {
      const due = await contractDueDates(t.ctx, today);
      return { contracts: due.contracts.filter((x) => x.vendorId === v.id), amendments: due.amendments.filter((x) => x.vendorId === v.id) };
    };
    assert.deepEqual((await mine('2026-03-31')).contracts, [], 'deadline 2026-05-01 is more than 30 days away');
    const dueNow = (await mine('2026-04-01')).contracts;
    assert.deepEqual(dueNow, [{ key: `contract-notice:${c.id}:2026-05-01`, contractId: c.id, vendorId: v.id, vendorName: 'Due Dates Ltd', title: 'Renewing MSA', expiresOn: '2026-06-30', noticeDays: 60, noticeDeadline: '2026-05-01', autoRenews: true, state: 'notice_due' }]);
    assert.equal((await mine('2026-05-02')).contracts[0]!.state, 'notice_passed');
    assert.equal((await mine('2026-07-01')).contracts[0]!.state, 'expired');

    const a = await openAmendment(v.id, c.id, { 'CL-INDEM': { status: 'missing' } });
    await t.ctx.amendments.update(actorFor(u.legal), a.id, { targetDate: '2026-03-10' });
    assert.deepEqual((await mine('2026-03-10')).amendments, [], 'due on the target date, overdue after');
    const [late] = (await mine('2026-03-13')).amendments;
    assert.deepEqual(late, { key: `amendment-target:${a.id}:2026-03-10`, amendmentId: a.id, vendorId: v.id, vendorName: 'Due Dates Ltd', title: a.title, targetDate: '2026-03-10', ownerId: u.legal.user.id, daysOverdue: 3 });
    await t.ctx.amendments.transition(actorFor(u.legal), a.id, 'withdrawn', 'x');
    assert.deepEqual((await mine('2026-03-13')).amendments, [], 'closed requests are never overdue');

    await travel('2026-04-05T09:00:00.000Z');
    const list = await u.viewer.agent.get(`/contracts?vendor=${v.id}&notice=due`);
    assert.match(list.text, /1 contract matches these filters\./);
    assert.match(list.text, /Renewing MSA/);
    assert.match(list.text, /<span class="tag notice-due">Notice due soon<\/span>/);
    await travel(START);
  });

  test('When contracts are used through the API, then they are created, reviewed, covered and amended to execution, with 400s naming fields and writes only for legal and admins', async () => {
    const tokens: Record<string, string> = {};
    for (const role of ['legal', 'viewer'] as const) {
      const res = await submit(u[role].agent, '/account/tokens', '/account/tokens', { name: `${role} contracts` });
      tokens[role] = /value="(ovs_[^"]+)"/.exec(res.text)![1]!;
    }
    const api = (role: string) => ({
      get: (p: string) => request(t.app).get(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[role]}`),
      post: (p: string, body: object) => request(t.app).post(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[role]}`).send(body),
      patch: (p: string, body: object) => request(t.app).patch(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[role]}`).send(body),
      put: (p: string, body: object) => request(t.app).put(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[role]}`).send(body),
    });
    const v = await makeVendor(t);
    assert.equal((await api('viewer').post(`/vendors/${v.id}/contracts`, { title: 'X', type: 'msa', effectiveOn: '2024-01-01' })).status, 403);
    const bad = await api('legal').post(`/vendors/${v.id}/contracts`, { title: 'DPA', type: 'dpa', effectiveOn: '2025-01-01', expiresOn: '2024-12-31', colour: 'red' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.fields.colour, 'Unknown field.');
    const dates = await api('legal').post(`/vendors/${v.id}/contracts`, { title: 'DPA', type: 'dpa', effectiveOn: '2025-01-01', expiresOn: '2024-12-31' });
    assert.equal(dates.status, 400);
    assert.equal(dates.body.error.fields.expiresOn, 'Expiry date must be after the effective date (2025-01-01).');
    const created = await api('legal').post(`/vendors/${v.id}/contracts`, { title: 'DPA', type: 'dpa', effectiveOn: '2025-01-01', expiresOn: '2027-12-31', autoRenews: true, noticeDays: 45 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.location, `/api/v1/contracts/${created.body.id}`);
    assert.equal(created.body.status, 'active');
    assert.equal(created.body.noticeDeadline, '2027-11-16');
    assert.deepEqual(created.body.clauses.map((c: { clauseId: string; status: string }) => [c.clauseId, c.status]), ALL_WITH_PI.map((id) => [id, 'not_reviewed']));
    const id = created.body.id as number;
    const patched = await api('legal').patch(`/contracts/${id}`, { notes: 'Signed by the CFO' });
    assert.equal(patched.body.notes, 'Signed by the CFO');
    assert.equal(patched.body.expiresOn, '2027-12-31', 'fields not sent stay');
    assert.equal((await api('legal').patch(`/contracts/${id}`, { expiresOn: '2024-01-01' })).body.error.fields.expiresOn, 'Expiry date must be after the effective date (2025-01-01).');

    for (const [i, clauseId] of ALL_WITH_PI.entries()) {
      const res = await api('legal').put(`/contracts/${id}/clauses/${clauseId}`, clauseId === 'CL-BRN' ? { status: 'missing' } : { status: 'present', reference: `§${i + 1}` });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const noRef = await api('legal').put(`/contracts/${id}/clauses/CL-SEC`, { status: 'present' });
    assert.equal(noRef.status, 400);
    assert.match(noRef.body.error.fields.reference, /give the section/);
    assert.equal((await api('legal').put(`/contracts/${id}/clauses/CL-NOPE`, { status: 'present', reference: '§1' })).status, 404);
    const doc = await request(t.app).post(`/api/v1/contracts/${id}/document`).set('Authorization', `Bearer ${tokens.legal}`).attach('document', PDF, { filename: 'dpa.pdf' });
    assert.equal(doc.status, 201, JSON.stringify(doc.body));
    assert.equal(doc.body.kind, 'signed');

    const cov = await api('viewer').get(`/vendors/${v.id}/coverage`);
    assert.equal(cov.status, 200);
    assert.equal(cov.body.coveragePercent, 87);
    assert.equal(cov.body.clauses.find((c: { clauseId: string }) => c.clauseId === 'CL-BRN').status, 'missing');
    assert.deepEqual(cov.body.notApplicable.map((x: { clauseId: string }) => x.clauseId), ['CL-SUBK']);
    const matrix = await api('viewer').get(`/coverage?missing=CL-BRN&pageSize=200`);
    assert.equal(matrix.status, 200);
    assert.ok(matrix.body.data.some((r: { vendorId: number; clauses: Record<string, string> }) => r.vendorId === v.id && r.clauses['CL-BRN'] === 'missing'));
    assert.equal(matrix.body.shares.length, 9);
    assert.equal((await api('viewer').get('/coverage?missing=CL-NOPE')).body.error.fields.missing.startsWith('missing must be a clause of the catalogue'), true);

    const opened = await api('legal').post(`/vendors/${v.id}/amendments`, { items: [{ contractId: id, clauseId: 'CL-BRN' }], targetDate: '2026-05-01', ownerId: u.legal.user.id });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const aid = opened.body.id as number;
    assert.equal((await api('legal').post(`/amendments/${aid}/status`, { to: 'negotiating' })).status, 409);
    assert.equal((await api('legal').post(`/amendments/${aid}/status`, { to: 'sent', extra: 1 })).status, 400);
    assert.equal((await api('legal').post(`/amendments/${aid}/status`, { to: 'sent' })).body.status, 'sent');
    assert.equal((await api('legal').post(`/amendments/${aid}/status`, { to: 'negotiating' })).body.status, 'negotiating');
    assert.equal((await api('legal').post(`/amendments/${aid}/comments`, { body: 'Vendor agreed in principle.' })).status, 201);
    assert.equal((await api('viewer').post(`/amendments/${aid}/comments`, { body: 'x' })).status, 403);
    const itemId = opened.body.items[0].id as number;
    const noDoc = await request(t.app).post(`/api/v1/amendments/${aid}/execute`).set('Authorization', `Bearer ${tokens.legal}`).field('references', JSON.stringify({ [itemId]: '§3' }));
    assert.equal(noDoc.status, 400);
    assert.match(noDoc.body.error.fields.document, /Upload the executed amendment/);
    const badJson = await request(t.app).post(`/api/v1/amendments/${aid}/execute`).set('Authorization', `Bearer ${tokens.legal}`).field('references', '{nope').attach('document', PDF, { filename: 'a.pdf' });
    assert.equal(badJson.status, 400);
    const exec = await request(t.app).post(`/api/v1/amendments/${aid}/execute`).set('Authorization', `Bearer ${tokens.legal}`).field('references', JSON.stringify({ [itemId]: 'Amendment 1 §3' })).attach('document', PDF, { filename: 'amendment.pdf' });
    assert.equal(exec.status, 200, JSON.stringify(exec.body));
    assert.equal(exec.body.status, 'executed');
    assert.equal(exec.body.items[0].reference, 'Amendment 1 §3');
    assert.deepEqual(exec.body.files.map((f: { kind: string }) => f.kind), ['executed']);
    assert.equal(exec.body.comments[0].body, 'Vendor agreed in principle.');
    assert.equal((await api('viewer').get(`/vendors/${v.id}/coverage`)).body.coveragePercent, 100);
    const list = await api('viewer').get(`/amendments?vendor=${v.id}&status=executed`);
    assert.equal(list.body.total, 1);
    assert.equal((await api('viewer').get(`/contracts?vendor=${v.id}`)).body.data[0].document.fileName, 'dpa.pdf');
    assert.equal((await api('viewer').get(`/vendors/${v.id}/contracts`)).body.data.length, 1);
    assert.equal((await api('legal').patch(`/amendments/${aid}`, { title: 'x' })).status, 409, 'closed requests stay as they are');
  });
});

function csvRows(res: { text: string }): number {
  return res.text.replace(/^\uFEFF/, '').trim().split('\n').length - 1;
}

describe('the portfolio matrix', () => {
  let t: TestApp;
  let viewer: SignedIn;
  let legal: SignedIn;
  before(async () => {
    t = await createTestApp();
    viewer = await signedIn(t, 'viewer');
    legal = await signedIn(t, 'legal');
  });
  after(() => t.close());

  test('When the matrix is shown, then each vendor has its clause states, filters narrow it, and each clause has the share of in-scope active vendors covered', async () => {
    const actor = actorFor(legal);
    const vendor = (legalName: string, extra: Parameters<typeof makeVendor>[1] = {}) => makeVendor(t, { legalName, status: 'active', ...extra });
    const full = await vendor('Alpha Full', { recordVolume: 'over_1m' });
    const gap = await vendor('Bravo Gap');
    const sub = await vendor('Charlie Sub');
    await t.ctx.vendors.addSubprocessor(systemActor('test'), sub.id, { name: 'Host', purpose: 'Hosting' });
    const naVendor = await vendor('Delta NA');
    await vendor('Echo None');
    await vendor('Foxtrot Out', { piElements: [], recordVolume: 'none', accessModes: [] });
    await vendor('Golf Prospect', { status: 'prospect' });
    const contract = async (vendorId: number, except: Gaps = {}, ids = ALL_WITH_PI) => {
      const c = await t.ctx.contracts.create(actor, vendorId, contractInput());
      await t.ctx.contracts.reviewClauses(actor, c.id, reviews(except, ids));
      return c;
    };
    await contract(full.id);
    await contract(gap.id, { 'CL-BRN': { status: 'missing' }, 'CL-DISP': { status: 'partial', note: 'x' } });
    await contract(sub.id, { 'CL-SUBK': { status: 'missing' } }, [...ALL_WITH_PI, 'CL-SUBK']);
    await contract(naVendor.id, { 'CL-BRN': { status: 'not_applicable', note: 'no data kept' } });

    const shares = new Map((await t.ctx.contracts.shares()).map((s) => [s.clause.id, s]));
    // In scope and active: Alpha, Bravo, Charlie, Delta, Echo (no contract). Foxtrot is out of scope; Golf is a prospect.
    assert.deepEqual([shares.get('CL-BRN')!.covered, shares.get('CL-BRN')!.of], [2, 4], 'Delta is left aside (not applicable); Echo counts as not covered');
    assert.equal(shares.get('CL-BRN')!.percent, 50);
    assert.deepEqual([shares.get('CL-SEC')!.covered, shares.get('CL-SEC')!.of], [4, 5]);
    assert.deepEqual([shares.get('CL-SUBK')!.covered, shares.get('CL-SUBK')!.of], [0, 1], 'only Charlie has subprocessors');
    assert.deepEqual([shares.get('CL-DISP')!.covered, shares.get('CL-DISP')!.of], [3, 5]);

    const names = async (qs: string) => {
      const res = await viewer.agent.get(`/contracts/matrix${qs}`);
      assert.equal(res.status, 200, res.text.slice(0, 300));
      return [...res.text.matchAll(/<th scope="row"><a href="\/vendors\/\d+\/coverage">([^<]+)<\/a>/g)].map((m) => m[1]);
    };
    assert.deepEqual(await names(''), ['Alpha Full', 'Bravo Gap', 'Charlie Sub', 'Delta NA', 'Echo None', 'Foxtrot Out', 'Golf Prospect']);
    assert.deepEqual(await names('?missing=CL-BRN'), ['Bravo Gap', 'Echo None', 'Golf Prospect'], 'partial, missing or no contract; not applicable and present are left out');
    assert.deepEqual(await names('?missing=CL-BRN&status=active'), ['Bravo Gap', 'Echo None']);
    assert.deepEqual(await names('?missing=CL-SUBK'), ['Charlie Sub'], 'CL-SUBK applies only with subprocessors');
    assert.deepEqual(await names('?missing=CL-DISP'), ['Bravo Gap', 'Echo None', 'Golf Prospect']);
    assert.deepEqual(await names('?tier=critical'), ['Alpha Full']);
    assert.deepEqual(await names('?scope=out'), ['Foxtrot Out']);
    const bad = await viewer.agent.get('/contracts/matrix?missing=CL-NOPE&tier=huge');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /tier must be one of/);

    const page = await viewer.agent.get('/contracts/matrix');
    assert.match(page.text, /<td data-clause="CL-BRN"><strong>50%<\/strong><br><span class="hint">2 of 4<\/span><\/td>/);
    assert.match(page.text, /<span class="tag cs-missing" title="CL-BRN">Missing<\/span>/);
    assert.match(page.text, /<span class="tag cs-does_not_apply" title="CL-SUBK">Does not apply<\/span>/);
    assert.match(page.text, /<span class="tag cs-no_contract" title="CL-SEC">No active contract<\/span>/);

    const csv = await viewer.agent.get('/contracts/matrix.csv?missing=CL-BRN');
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.ok(csv.text.startsWith('\uFEFF'));
    const lines = csv.text.slice(1).trim().split('\n');
    assert.equal(lines[0], 'vendor_id,legal_name,status,tier,in_scope,active_contracts,coverage_percent,CL-SEC,CL-LAW,CL-AUDIT,CL-TERM,CL-INDEM,CL-DISP,CL-BRN,CL-SUBK,CL-CERT');
    assert.equal(lines.length, 4);
    assert.equal(lines[1], `${gap.id},Bravo Gap,active,high,yes,1,75,present,present,present,present,present,partial,missing,,present`);
    assert.match(lines[2]!, /,Echo None,active,high,yes,0,0,no_contract,/);
    assert.equal((await viewer.agent.get('/contracts/matrix.csv?missing=CL-NOPE')).status, 400);
  });
});

describe('changes to the clause catalogue', () => {
  let t: TestApp;
  let dir: string;
  let file: string;
  const v1 = [
    'version: 1',
    'clauses:',
    '  - { id: CL-SEC, title: Security requirements, must_say: The vendor keeps safeguards., citations: ["201 CMR 17.03(2)(f)(2)"], basis: rule, severity: critical, applies_when: { personal_information: true } }',
    '  - { id: CL-BRN, title: Breach notification, must_say: The vendor tells us at once., citations: ["Practice note", "M.G.L. c.93H §3(a)"], basis: guidance, severity: high, applies_when: { personal_information: true } }',
  ].join('\n');
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-clauses-'));
    file = path.join(dir, 'catalogue.yaml');
    fs.writeFileSync(file, v1);
    t = await createTestApp({ clauseCatalogueFile: file });
  });
  after(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('When a clause is added to the file, then it appears as not reviewed on every contract it applies to; a broken file keeps the version in force', async () => {
    const admin = await signedIn(t, 'admin');
    const legal = await signedIn(t, 'legal');
    const viewer = await signedIn(t, 'viewer');
    const withPi = await makeVendor(t);
    const withoutPi = await makeVendor(t, { piElements: [], recordVolume: 'none', accessModes: [] });
    const c1 = await t.ctx.contracts.create(actorFor(legal), withPi.id, contractInput());
    const c2 = await t.ctx.contracts.create(actorFor(legal), withoutPi.id, contractInput());
    await t.ctx.contracts.reviewClauses(actorFor(legal), c1.id, reviews({}, ['CL-SEC', 'CL-BRN']));
    assert.equal((await t.ctx.contracts.vendorCoverage(withPi.id)).percent, 100);

    fs.writeFileSync(file, `${v1.replace('version: 1', 'version: 2')}\n  - { id: CL-RET, title: Data retention limits, must_say: The vendor keeps data no longer than needed., citations: ["Practice note"], basis: guidance, severity: medium, applies_when: { personal_information: true } }\n`);
    assert.equal((await submit(legal.agent, '/contracts', '/admin/clauses/reload', {})).status, 403, 'only administrators reload');
    const reload = await submit(admin.agent, '/admin/clauses', '/admin/clauses/reload', {});
    assert.equal(reload.status, 303);
    const [reloaded] = await t.ctx.ds.getRepository(AuditEntry).find({ where: { action: 'clause_catalogue.reloaded' } });
    assert.deepEqual([reloaded!.actorLabel, reloaded!.details!.version, reloaded!.details!.valid], [admin.email, 2, true]);
    const cov = await t.ctx.contracts.vendorCoverage(withPi.id);
    assert.equal(cov.clauses.find((x) => x.clause.id === 'CL-RET')!.state, 'not_reviewed');
    assert.equal(cov.percent, 66);
    const page = await viewer.agent.get(`/contracts/${c1.id}`);
    assert.match(page.text, /<strong>CL-RET<\/strong> Data retention limits/);
    assert.match(page.text, /<span class="tag cs-not_reviewed">Not reviewed<\/span>/);
    assert.equal((await t.ctx.contracts.checklist(c2)).rows.length, 0, 'it does not apply to a vendor without personal information');
    assert.match((await legal.agent.get('/admin/clauses')).text, /Version in force<\/dt><dd>2<\/dd>/);

    fs.writeFileSync(file, 'version: 3\nclauses:\n  - { id: CL-SEC, title: S, must_say: short }\n');
    const broken = await submit(admin.agent, '/admin/clauses', '/admin/clauses/reload', {});
    assert.equal(broken.status, 303);
    const list = await admin.agent.get('/admin/clauses');
    assert.match(list.text, /The catalogue file has \d+ problems; the version read before stays in force\./);
    assert.match(list.text, /catalogue\.yaml: clauses\.0\.must_say: /);
    assert.match(list.text, /catalogue\.yaml: clauses\.0: Unrecognized key|catalogue\.yaml: clauses\.0\.citations: /);
    assert.match(list.text, /Version 2, read before, stays in force until the file is fixed\./);
    assert.equal(t.ctx.clauses.list().length, 3, 'the portal keeps working with version 2');
    assert.match((await viewer.agent.get(`/contracts/${c1.id}`)).text, /The clause catalogue could not be read/);
    const read = await viewer.agent.get('/admin/clauses');
    assert.equal(read.status, 200, 'a viewer reads the catalogue and its problems');
    assert.doesNotMatch(read.text, /action="\/admin\/clauses\/reload"/, 'but cannot reload it');
  });

  test('When the portal starts with a broken catalogue, then it still starts, checks no clause, and says why', async () => {
    const bad = path.join(dir, 'broken.yaml');
    fs.writeFileSync(bad, 'clauses: [');
    const t2 = await createTestApp({ clauseCatalogueFile: bad });
    try {
      const legal = await signedIn(t2, 'legal');
      const v = await makeVendor(t2);
      const c = await t2.ctx.contracts.create(actorFor(legal), v.id, contractInput());
      const page = await legal.agent.get(`/contracts/${c.id}`);
      assert.equal(page.status, 200);
      assert.match(page.text, /No clause of the catalogue applies to this vendor, or the catalogue could not be read\./);
      assert.match((await legal.agent.get('/contracts')).text, /The clause catalogue file has problems/);
      assert.match((await legal.agent.get('/admin/clauses')).text, /No clause is in force until the file is fixed\./);
      assert.equal((await legal.agent.get('/contracts/matrix')).status, 200);
    } finally {
      await t2.close();
    }
  });
});

describe('contract demo data', () => {
  test('When the demo contracts are seeded, then there are gaps, a legacy contract and amendment requests in every state, and the vendor page and matrix readings of coverage agree with the full one', async () => {
    const t = await createTestApp();
    try {
      await signedIn(t, 'legal');
      const names = ['Northwind Payroll Inc.', 'Summit Card Processing LLC', 'Bluefin Benefits Administration LLC', 'Cedar Background Screening Co.', 'Coastal Records Storage', 'Granite Collections Agency', 'Atlas Mailing Services', 'Keystone IT Support', 'Redwood HR Systems', 'Pioneer Print & Mail'];
      const vendors = [];
      for (const name of names) {
        const v = await makeVendor(t, { legalName: name, status: 'active' });
        if (name === 'Northwind Payroll Inc.' || name === 'Redwood HR Systems') await t.ctx.vendors.addSubprocessor(systemActor('test'), v.id, { name: 'Cloud', purpose: 'Hosting' });
        vendors.push({ id: v.id, name });
      }
      assert.equal(await seedContracts(t.ctx, vendors), 13);
      const amendments = await t.ctx.ds.getRepository(ContractAmendment).find();
      assert.deepEqual(new Set(amendments.map((a) => a.status)), new Set(['drafted', 'sent', 'negotiating', 'executed', 'refused', 'withdrawn']));
      assert.ok(amendments.some((a) => a.status === 'sent' && a.targetDate! < t.ctx.contracts.today()), 'one is overdue');
      assert.ok(amendments.find((a) => a.status === 'refused')!.findingId, 'the refusal opened a finding');
      const contracts = await t.ctx.ds.getRepository(Contract).find();
      assert.ok(contracts.some((c) => isLegacy(c)));
      assert.deepEqual(new Set(contracts.map((c) => c.status)), new Set(['active', 'draft', 'terminated']));
      assert.ok((await t.ctx.ds.getRepository(ContractClause).countBy({ status: 'missing' })) > 3);
      const bluefin = vendors.find((v) => v.name.startsWith('Bluefin'))!;
      assert.equal((await t.ctx.contracts.vendorCoverage(bluefin.id)).percent, 100);
      const northwind = vendors.find((v) => v.name.startsWith('Northwind'))!;
      assert.equal((await t.ctx.contracts.vendorCoverage(northwind.id)).clauses.find((x) => x.clause.id === 'CL-BRN')!.state, 'present', 'the DPA covers the MSA');

      // The vendor page and the matrix read coverage by lean queries; they agree with the full reading.
      const { vendors: page, facts } = await t.ctx.contracts.matrix({}, 1, 50);
      assert.equal(page.length, vendors.length);
      assert.deepEqual(await t.ctx.contracts.vendorStates(page.map((v) => v.id), facts), await t.ctx.contracts.vendorStates(page.map((v) => v.id)));
      for (const { id } of vendors) {
        const vendor = await t.ctx.vendors.get(id);
        const subprocessorCount = (await t.ctx.vendors.subprocessors(id)).length;
        assert.deepEqual(await t.ctx.contracts.vendorSummary(id, { vendor, subprocessorCount }), await t.ctx.contracts.vendorSummary(id), `vendor ${id}`);
      }
      const summaries = await Promise.all(vendors.map(({ id }) => t.ctx.contracts.vendorSummary(id)));
      assert.ok(summaries.some((s) => s.gaps.length > 0 && s.counts.active > 0 && s.total > s.counts.active), 'a vendor with gaps and contracts other than active ones is among them');
    } finally {
      await t.close();
    }
  });
});
