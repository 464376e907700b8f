import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import request from 'supertest';
import { In } from 'typeorm';
import { AddCertificationImmutability1795737602000 } from '../migrations/1795737602000-AddCertificationImmutability';
import type { Role } from '../server/accounts/entities';
import { AuditEntry } from '../server/audit/entities';
import { type Actor, systemActor } from '../server/audit/service';
import { DAY } from '../server/clock';
import { seedCertifications } from '../server/certifications/demo';
import { certificationDueDates } from '../server/certifications/due-dates';
import { Certification, CertificationLink } from '../server/certifications/entities';
import { CertificationTemplateRegistry, CERTIFICATIONS_DIR } from '../server/certifications/registry';
import { claimsRuleRequiresCertification, loadCertificationTemplates, parseCertificationTemplate } from '../server/certifications/template';
import { redactUrl } from '../server/logger';
import { Questionnaire } from '../server/questionnaires/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { csrfFrom, makeVendor, signedIn, submit } from './helpers/http';
import { PDF } from './helpers/portal';
import { type SmtpListener, startSmtp } from './helpers/smtp';

const BASE = '2026-03-02T09:00:00.000Z';

const GOOD_TEMPLATE = `id: test-cert
version: 3
purpose: annual
title: Test certification
validity_months: 12
citations: ["201 CMR 17.03(2)(f)"]
statement: |
  {{vendor}} certifies to {{organization}} that it keeps a written information security program. In force for {{validity}}.
`;

describe('certification templates', () => {
  test('When the shipped templates load, then both are valid, cite their rules, and never say 201 CMR 17.00 requires a certification', () => {
    const loaded = loadCertificationTemplates(CERTIFICATIONS_DIR);
    assert.deepEqual(loaded.map((t) => t.id).sort(), ['annual-security', 'disposal']);
    for (const t of loaded) {
      assert.ok(t.valid, `${t.file}: ${t.errors.join('; ')}`);
      assert.equal(claimsRuleRequiresCertification(t.template!.statement), null);
      assert.match(t.template!.statement, /does not itself require|contractual/);
    }
    const annual = loaded.find((t) => t.id === 'annual-security')!.template!;
    assert.equal(annual.purpose, 'annual');
    assert.equal(annual.validity_months, 12);
    assert.ok(annual.citations.includes('201 CMR 17.03(2)(f)'));
    assert.match(annual.statement, /201 CMR 17\.00 and with the federal rules/);
    assert.match(annual.statement, /Breach notification/);
    assert.match(annual.statement, /subprocessors/);
    const disposal = loaded.find((t) => t.id === 'disposal')!.template!;
    assert.equal(disposal.purpose, 'disposal');
    assert.equal(disposal.validity_months, 'never');
    assert.ok(disposal.citations.includes('M.G.L. c.93I §2'));
    assert.ok(disposal.citations.includes('Contract clause CL-DISP'));
  });

  test('When a file is broken, then each problem names the file, the path and the reason, and the rest still load', () => {
    const syntax = parseCertificationTemplate('broken.yaml', 'id: x\n  version: [1');
    assert.equal(syntax.valid, false);
    assert.match(syntax.errors[0]!, /^broken\.yaml: /);
    const bad = parseCertificationTemplate('bad.yaml', GOOD_TEMPLATE.replace('validity_months: 12', 'validity_months: 99').replace('{{organization}}', '{{customer}}').replace('purpose: annual', 'purpose: annual\ncolour: blue'));
    const all = bad.errors.join('\n');
    assert.match(all, /bad\.yaml: validity_months: must be a whole number of months from 1 to 60, or "never"/);
    assert.match(all, /bad\.yaml: statement: unknown placeholder \{\{customer\}\}/);
    assert.match(all, /bad\.yaml: \(top\): Unrecognized key: "colour"/);
    const claim = parseCertificationTemplate('claim.yaml', GOOD_TEMPLATE.replace('It keeps', 'x').replace('In force for {{validity}}.', 'As 201 CMR 17.00 requires, the vendor gives this written certification every year.'));
    assert.match(claim.errors.join(), /claim\.yaml: statement: must not say that 201 CMR 17\.00 requires a written certification/);
    assert.equal(claimsRuleRequiresCertification('201 CMR 17.00 requires contracts; it does not itself require a written certification.'), null);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-certs-'));
    fs.writeFileSync(path.join(dir, 'good.yaml'), GOOD_TEMPLATE);
    fs.writeFileSync(path.join(dir, 'broken.yaml'), 'id: broken\nversion: one\n');
    fs.writeFileSync(path.join(dir, 'twin.yaml'), GOOD_TEMPLATE);
    const registry = new CertificationTemplateRegistry(dir);
    assert.equal(registry.list().length, 3);
    assert.equal(registry.get('broken'), null);
    assert.equal(registry.get('test-cert'), null, 'two files with one id are both refused');
    assert.match(registry.list().find((t) => t.file === 'good.yaml')!.errors[0]!, /id "test-cert" is also used by twin\.yaml/);
    fs.rmSync(path.join(dir, 'twin.yaml'));
    registry.reload();
    assert.equal(registry.get('test-cert')?.template.version, 3);
    assert.equal(registry.forPurpose('annual')?.id, 'test-cert');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('written certifications', () => {
  let t: TestApp;
  let smtp: SmtpListener;
  const u = {} as Record<Role, Awaited<ReturnType<typeof signedIn>>>;

  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ smtp });
    for (const role of ['admin', 'procurement', 'legal', 'reviewer', 'viewer'] as const) u[role] = await signedIn(t, role);
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });
  // Tests move the clock; every test starts at the same moment (sessions signed in then stay valid).
  afterEach(() => t.clock.set(BASE));

  const actorOf = (role: Role): Actor => ({ type: 'user', id: u[role].user.id, label: u[role].email, ip: null });

  /** A vendor with a security contact. */
  async function vendorWithContact(overrides: Parameters<typeof makeVendor>[1] = {}) {
    const vendor = await makeVendor(t, { status: 'active', ...overrides });
    const contact = await t.ctx.vendors.addContact(systemActor('test'), vendor.id, { name: 'Sam Signer', email: `sam${vendor.id}@vendor.example`, isSecurityContact: true });
    return { vendor, contact };
  }

  /** A certification requested by legal through the vendor page's form; returns its link and row. */
  async function requestCert(templateId = 'annual-security', dueDate = '2026-04-01') {
    const { vendor, contact } = await vendorWithContact();
    const res = await submit(u.legal.agent, `/vendors/${vendor.id}/certifications/new`, `/vendors/${vendor.id}/certifications/new`, { contactId: String(contact.id), templateId, dueDate });
    assert.equal(res.status, 201, res.text.slice(0, 500));
    const link = /value="(http:\/\/portal\.test\/c\/[A-Za-z0-9_-]+)"/.exec(res.text)![1]!;
    const c = (await t.ctx.ds.getRepository(Certification).findOneByOrFail({ vendorId: vendor.id, templateId }))!;
    return { vendor, contact, c, link, base: new URL(link).pathname };
  }

  /** Posts one of the portal page's plain forms with the page's form token. */
  async function portalPost(base: string, action: 'sign' | 'decline', fields: Record<string, string>, userAgent = 'TestBrowser/1.0') {
    const page = await request(t.app).get(base);
    assert.equal(page.status, 200, page.text.slice(0, 300));
    return request(t.app).post(`${base}/${action}`).set('User-Agent', userAgent).type('form').send({ ...fields, _csrf: csrfFrom(page.text) });
  }

  async function portalUpload(base: string, fields: Record<string, string>, file: { name: string; content: Buffer }) {
    const page = await request(t.app).get(base);
    const action = /action="([^"]+\/upload\?_csrf=[^"]+)"/.exec(page.text)![1]!.replace(/&amp;/g, '&');
    let req = request(t.app).post(action);
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    return req.attach('file', file.content, file.name);
  }

  const signer = { signerName: 'Sam Signer', signerTitle: 'CISO', signerCompany: 'Vendor Inc', signature: 'sam  signer', attest: 'on' };

  async function sign(base: string, c: Certification) {
    const res = await portalPost(base, 'sign', { ...signer, textSha256: c.textSha256 });
    assert.equal(res.status, 303, res.text.slice(0, 500));
    return t.ctx.certifications.get(c.id);
  }

  test('When legal requests a certification, then the contact gets a link that shows the whole text and its hash, and other roles are refused', async () => {
    const { vendor, contact, c, link, base } = await requestCert();
    const mail = await smtp.waitFor((m) => m.to.includes(contact.email) && m.subject.includes('to sign'));
    assert.ok(mail.text.includes(link), 'the emailed link is the one shown to legal');
    assert.match(mail.text, /201 CMR 17\.03\(2\)\(f\)/);
    assert.equal(c.status, 'requested');
    assert.ok(c.statement.includes(vendor.legalName), 'the vendor name is filled into the text');
    assert.equal(c.textSha256, crypto.createHash('sha256').update(`${c.title}\n\n${c.statement}`, 'utf8').digest('hex'));
    assert.equal((await t.ctx.ds.getRepository(CertificationLink).findOneByOrFail({ certificationId: c.id })).tokenHash, crypto.createHash('sha256').update(base.split('/').pop()!).digest('hex'), 'only the SHA-256 of the token is stored');

    const page = await request(t.app).get(base);
    assert.equal(page.status, 200);
    assert.equal(page.headers['set-cookie'], undefined, 'the vendor side sets no cookie');
    assert.ok(page.text.includes(c.textSha256));
    assert.match(page.text, /Breach notification/);
    assert.match(page.text, /201 CMR 17\.00 itself does not require a written certification/);

    for (const role of ['procurement', 'viewer', 'reviewer'] as const) {
      const _csrf = csrfFrom((await u[role].agent.get('/')).text);
      const refused = await u[role].agent.post(`/vendors/${vendor.id}/certifications/new`).type('form').send({ _csrf, contactId: String(contact.id), templateId: 'annual-security' });
      assert.equal(refused.status, 403, role);
    }
    assert.equal((await u.viewer.agent.get(`/certifications/${c.id}`)).status, 200, 'everyone signed in reads');
  });

  test('When staff open the templates page, then every template shows with its validity, and only an admin reads the files again', async () => {
    const page = await u.viewer.agent.get('/certifications/templates');
    assert.equal(page.status, 200);
    assert.match(page.text, /Annual information security certification/);
    assert.match(page.text, /in force for 12 months/);
    assert.match(page.text, /in force for no fixed period/);
    assert.match(page.text, /\[vendor\] \(&#34;the Vendor&#34;\)/);
    const _csrf = csrfFrom(page.text);
    assert.equal((await u.legal.agent.post('/certifications/templates/reload').type('form').send({ _csrf: csrfFrom((await u.legal.agent.get('/certifications/templates')).text) })).status, 403);
    assert.equal((await u.viewer.agent.post('/certifications/templates/reload').type('form').send({ _csrf })).status, 403);
    const reload = await submit(u.admin.agent, '/certifications/templates', '/certifications/templates/reload', {});
    assert.equal(reload.status, 303);
    assert.match((await u.admin.agent.get('/certifications/templates')).text, /Certification templates read again: 2 valid, 0 invalid\./);
  });

  test('When the request form is wrong, then it comes back with each reason and what was typed', async () => {
    const { vendor, contact } = await vendorWithContact();
    const res = await submit(u.legal.agent, `/vendors/${vendor.id}/certifications/new`, `/vendors/${vendor.id}/certifications/new`, { contactId: String(contact.id), templateId: 'nope', dueDate: '2026-03-01' });
    assert.equal(res.status, 400);
    assert.match(res.text, /Choose a valid certification template\./);
    assert.match(res.text, /value="2026-03-01"/);
    const past = await submit(u.legal.agent, `/vendors/${vendor.id}/certifications/new`, `/vendors/${vendor.id}/certifications/new`, { contactId: String(contact.id), templateId: 'annual-security', dueDate: '2026-03-01' });
    assert.equal(past.status, 400);
    assert.match(past.text, /The due date must be after today\./);
    assert.equal(await t.ctx.ds.getRepository(Certification).countBy({ vendorId: vendor.id }), 0);
  });

  test('When the vendor signs, then the time, address, browser, link and text hash are recorded, and a second signature is refused', async () => {
    const { c, base, contact } = await requestCert();
    const mismatch = await portalPost(base, 'sign', { ...signer, signature: 'Someone Else', attest: '', textSha256: c.textSha256 });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.text, /Tick the box to confirm/);
    assert.match(mismatch.text, /value="CISO"/, 'what was typed comes back');
    const wrongName = await portalPost(base, 'sign', { ...signer, signature: 'Someone Else', textSha256: c.textSha256 });
    assert.equal(wrongName.status, 400);
    assert.match(wrongName.text, /Type your full name exactly as entered above/);
    assert.equal((await t.ctx.certifications.get(c.id)).status, 'requested');

    const token = csrfFrom((await request(t.app).get(base)).text);
    t.clock.set('2026-03-05T14:30:00.000Z');
    const signed = await sign(base, c);
    assert.equal(signed.status, 'signed');
    assert.equal(signed.method, 'link');
    assert.equal(signed.signedAt?.toISOString(), '2026-03-05T14:30:00.000Z');
    assert.equal(signed.signedUserAgent, 'TestBrowser/1.0');
    assert.ok(signed.signedIp, 'the address is recorded');
    const link = await t.ctx.ds.getRepository(CertificationLink).findOneByOrFail({ certificationId: c.id });
    assert.equal(signed.signedLinkId, link.id);
    assert.equal(signed.textSha256, c.textSha256);
    assert.equal(signed.expiresOn, '2027-03-04', 'in force 12 months: through the day before the anniversary');
    assert.match(signed.sealSha256!, /^[0-9a-f]{64}$/);
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'certification.signed', entityId: String(c.id) });
    assert.equal(entry.actorType, 'vendor_link');
    assert.equal(entry.details!.textSha256, c.textSha256);
    await smtp.waitFor((m) => m.to.includes(contact.email) && m.subject.startsWith('Received'));
    await smtp.waitFor((m) => m.to.includes(u.legal.email) && m.subject.includes('signed'));

    const again = await request(t.app).post(`${base}/sign`).type('form').send({ ...signer, signerName: 'Other Person', signature: 'Other Person', textSha256: c.textSha256, _csrf: token });
    assert.equal(again.status, 409);
    assert.match(again.text, /already signed/);
    const after = await t.ctx.certifications.get(c.id);
    assert.equal(after.signerName, 'Sam Signer');
    assert.equal(after.signedAt?.toISOString(), '2026-03-05T14:30:00.000Z');
    const copy = await request(t.app).get(base);
    assert.match(copy.text, /Signed by <strong>Sam Signer<\/strong>/);
    assert.doesNotMatch(copy.text, /action="[^"]*\/sign"/, 'no signing form any more');
  });

  test('When a signed certification is touched, then the service and the database refuse, and a changed stored text fails verification', async () => {
    const { c, base } = await requestCert();
    await sign(base, c);
    await assert.rejects(t.ctx.certifications.revoke(actorOf('legal'), c.id, 'too late'), /cannot be withdrawn/);
    await assert.rejects(t.ctx.certifications.resend(actorOf('legal'), c.id), /cannot be resent/);
    await assert.rejects(t.ctx.ds.query(`UPDATE certifications SET statement = 'changed' WHERE id = ${c.id}`), /a signed certification never changes/);
    await assert.rejects(t.ctx.ds.query(`UPDATE certifications SET "signerName" = 'Mallory' WHERE id = ${c.id}`), /a signed certification never changes/);
    await assert.rejects(t.ctx.ds.query(`DELETE FROM certifications WHERE id = ${c.id}`), /a signed certification never changes/);

    const page = await submit(u.viewer.agent, `/certifications/${c.id}`, `/certifications/${c.id}/verify`, {});
    assert.equal(page.status, 200);
    assert.match(page.text, /<h2>Verified<\/h2>/);

    // Someone with database access lifts the protection and edits the text: verification catches it.
    const qr = t.ctx.ds.createQueryRunner();
    const guard = new AddCertificationImmutability1795737602000();
    try {
      await guard.down(qr);
      await qr.query(`UPDATE certifications SET statement = REPLACE(statement, 'Breach notification', 'Breach notice') WHERE id = ${c.id}`);
      await guard.up(qr);
    } finally {
      await qr.release();
    }
    const failed = await submit(u.viewer.agent, `/certifications/${c.id}`, `/certifications/${c.id}/verify`, {});
    assert.match(failed.text, /<h2>Verification failed<\/h2>/);
    assert.match(failed.text, /Text SHA-256<\/dt><dd>DOES NOT MATCH/);
    const result = await t.ctx.certifications.verify(null, c.id);
    assert.equal(result.ok, false);
    assert.equal(result.text.stored, c.textSha256);
    assert.notEqual(result.text.computed, c.textSha256);
    assert.ok(await t.ctx.ds.getRepository(AuditEntry).findOneBy({ action: 'certification.verification_failed', entityId: String(c.id) }));
    const printable = await u.viewer.agent.get(`/certifications/${c.id}/certificate`);
    assert.match(printable.text, /VERIFICATION FAILED/);
    await assert.rejects(t.ctx.ds.query(`UPDATE certifications SET statement = 'again' WHERE id = ${c.id}`), /never changes/, 'the guard is back');
  });

  test('When links are unknown, replaced, expired or withdrawn, then they answer 404 or 410 without naming the vendor', async () => {
    assert.equal((await request(t.app).get('/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status, 404);
    const first = await requestCert('annual-security', '2026-03-10');
    const resent = await submit(u.legal.agent, `/certifications/${first.c.id}`, `/certifications/${first.c.id}/resend`, {});
    assert.equal(resent.status, 200);
    const newLink = /value="(http:\/\/portal\.test\/c\/[A-Za-z0-9_-]+)"/.exec(resent.text)![1]!;
    const old = await request(t.app).get(first.base);
    assert.equal(old.status, 410);
    assert.match(old.text, /A newer link to this certification was sent/);
    assert.ok(old.text.includes(u.legal.email), 'says whom to contact');
    assert.ok(!old.text.includes(first.vendor.legalName), 'no vendor name on a dead link');
    const fresh = new URL(newLink).pathname;
    assert.equal((await request(t.app).get(fresh)).status, 200);
    const oldSign = await request(t.app).post(`${first.base}/sign`).type('form').send({ ...signer, textSha256: first.c.textSha256, _csrf: 'x' });
    assert.equal(oldSign.status, 410, 'a replaced link cannot sign');

    t.clock.set('2026-03-24T12:00:00Z');
    assert.equal((await request(t.app).get(fresh)).status, 200, 'still inside the 14-day grace');
    t.clock.set('2026-03-25T00:00:01Z');
    const expired = await request(t.app).get(fresh);
    assert.equal(expired.status, 410);
    assert.match(expired.text, /This link has expired/);
    t.clock.set(BASE);

    const second = await requestCert();
    const revoked = await submit(u.legal.agent, `/certifications/${second.c.id}`, `/certifications/${second.c.id}/revoke`, { reason: '' });
    assert.equal(revoked.status, 400);
    assert.match(revoked.text, /Reason is required/);
    assert.equal((await submit(u.legal.agent, `/certifications/${second.c.id}`, `/certifications/${second.c.id}/revoke`, { reason: 'Wrong contact' })).status, 303);
    const gone = await request(t.app).get(second.base);
    assert.equal(gone.status, 410);
    assert.match(gone.text, /withdrawn/);
    assert.equal(t.ctx.certifications.displayStatus(await t.ctx.certifications.get(second.c.id)), 'revoked');
  });

  test("When a form comes from elsewhere or another link's page, then it is refused", async () => {
    const a = await requestCert();
    const b = await requestCert();
    const forged = await request(t.app).post(`${a.base}/sign`).type('form').send({ ...signer, textSha256: a.c.textSha256, _csrf: 'x'.repeat(43) });
    assert.equal(forged.status, 403);
    const bToken = csrfFrom((await request(t.app).get(b.base)).text);
    const crossed = await request(t.app).post(`${a.base}/sign`).type('form').send({ ...signer, textSha256: a.c.textSha256, _csrf: bToken });
    assert.equal(crossed.status, 403);
    assert.equal((await t.ctx.certifications.get(a.c.id)).status, 'requested');
  });

  test('When the vendor uploads a signed PDF, then it waits for confirmation, is stored encrypted, and counts as signed once a reviewer confirms', async () => {
    const { c, base } = await requestCert();
    const exe = Buffer.concat([Buffer.from('MZ\x90\x00', 'latin1'), Buffer.alloc(100, 1)]);
    const refused = await portalUpload(base, { signerName: 'Pat Paper', signerTitle: 'COO', signerCompany: 'Vendor Inc' }, { name: 'signed.pdf', content: exe });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /is not a PDF/);
    assert.match(refused.text, /value="Pat Paper"/, 'what was typed comes back');
    assert.equal((await t.ctx.certifications.get(c.id)).status, 'requested');

    t.clock.set('2026-03-03T10:00:00.000Z');
    const ok = await portalUpload(base, { signerName: 'Pat Paper', signerTitle: 'COO', signerCompany: 'Vendor Inc' }, { name: 'signed.pdf', content: PDF });
    assert.equal(ok.status, 303);
    const uploaded = await t.ctx.certifications.get(c.id);
    assert.equal(uploaded.status, 'uploaded');
    assert.equal(uploaded.method, 'upload');
    assert.equal(uploaded.fileSha256, crypto.createHash('sha256').update(PDF).digest('hex'));
    const onDisk = fs.readFileSync(t.ctx.evidence.pathOf(uploaded.storedName!));
    assert.ok(!onDisk.includes(Buffer.from('CONFIDENTIAL-SOC2-CONTENT')), 'encrypted at rest');
    assert.match((await request(t.app).get(base)).text, /waiting for .* to confirm it/);
    const token = csrfFrom(refused.text);
    assert.equal((await request(t.app).post(`${base}/sign`).type('form').send({ ...signer, textSha256: c.textSha256, _csrf: token })).status, 409, 'no signing while an upload waits');

    // Staff sign in now (a session idle for 30 minutes ends).
    const viewer = await signedIn(t, 'viewer');
    const reviewer = await signedIn(t, 'reviewer');
    const byViewer = await viewer.agent.post(`/certifications/${c.id}/confirm`).type('form').send({ _csrf: csrfFrom((await viewer.agent.get(`/certifications/${c.id}`)).text) });
    assert.equal(byViewer.status, 403);
    const download = await reviewer.agent.get(`/certifications/${c.id}/file`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (x: Buffer) => chunks.push(x));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.ok((download.body as Buffer).equals(PDF), 'staff read the PDF decrypted');
    t.clock.set('2026-03-03T10:20:00.000Z');
    const confirmed = await submit(reviewer.agent, `/certifications/${c.id}`, `/certifications/${c.id}/confirm`, {});
    assert.equal(confirmed.status, 303);
    const signed = await t.ctx.certifications.get(c.id);
    assert.equal(signed.status, 'signed');
    assert.equal(signed.confirmedById, reviewer.user.id);
    assert.equal(signed.confirmedAt?.toISOString(), '2026-03-03T10:20:00.000Z');
    assert.equal(signed.signedAt?.toISOString(), '2026-03-03T10:00:00.000Z', 'signed when the vendor uploaded');
    assert.equal(signed.expiresOn, '2027-03-02');
    const v = await t.ctx.certifications.verify(null, c.id);
    assert.equal(v.ok, true);
    assert.equal(v.file?.ok, true, 'the stored PDF still hashes to what was uploaded');
  });

  test('When staff refuse an upload, then the vendor is told why and can sign again with a new link', async () => {
    const { c, base, contact } = await requestCert();
    await portalUpload(base, { signerName: 'Pat Paper', signerTitle: 'COO', signerCompany: 'Vendor Inc' }, { name: 'blank.pdf', content: PDF });
    const storedName = (await t.ctx.certifications.get(c.id)).storedName!;
    const missing = await submit(u.legal.agent, `/certifications/${c.id}`, `/certifications/${c.id}/reject-upload`, { reason: '' });
    assert.equal(missing.status, 400);
    const res = await submit(u.legal.agent, `/certifications/${c.id}`, `/certifications/${c.id}/reject-upload`, { reason: 'The page with the signature is missing.' });
    assert.equal(res.status, 303);
    const again = await t.ctx.certifications.get(c.id);
    assert.equal(again.status, 'requested');
    assert.equal(again.fileSha256, null);
    assert.equal(fs.existsSync(t.ctx.evidence.pathOf(storedName)), false);
    const mail = await smtp.waitFor((m) => m.to.includes(contact.email) && m.subject.startsWith('Please sign again'));
    assert.match(mail.text, /The page with the signature is missing\./);
    const link = /(http:\/\/portal\.test\/c\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    assert.equal((await request(t.app).get(base)).status, 410, 'the old link was replaced');
    const signed = await sign(new URL(link).pathname, again);
    assert.equal(signed.status, 'signed');
  });

  test('When the vendor declines with a reason, then the request closes and legal is told', async () => {
    const { c, base } = await requestCert();
    const noReason = await portalPost(base, 'decline', { name: 'Dee Decliner', reason: '' });
    assert.equal(noReason.status, 400);
    assert.match(noReason.text, /Reason is required/);
    assert.match(noReason.text, /value="Dee Decliner"/);
    const res = await portalPost(base, 'decline', { name: 'Dee Decliner', reason: 'Our contract has no such clause.' });
    assert.equal(res.status, 303);
    const declined = await t.ctx.certifications.get(c.id);
    assert.equal(declined.status, 'declined');
    assert.equal(declined.declineReason, 'Our contract has no such clause.');
    await smtp.waitFor((m) => m.to.includes(u.legal.email) && m.subject.includes('declined'));
    assert.equal((await request(t.app).post(`${base}/sign`).type('form').send({ ...signer, textSha256: c.textSha256, _csrf: csrfFrom(noReason.text) })).status, 409);
    const page = await u.viewer.agent.get(`/certifications/${c.id}`);
    assert.match(page.text, /Our contract has no such clause\./);
  });

  test('When time passes, then a signed certification turns expiring and expired, in the list, the filters, the vendor list and the due dates', async () => {
    const { c, base, vendor } = await requestCert();
    await sign(base, c); // signed 2026-03-02: in force through 2027-03-01
    const renewed = await requestCert();
    await sign(renewed.base, renewed.c);
    t.clock.set('2027-01-15T09:00:00.000Z');
    // The second vendor renews early: its newer certification makes the older one not due.
    const second = await t.ctx.certifications.request(actorOf('legal'), { vendorId: renewed.vendor.id, contactId: renewed.contact.id, templateId: 'annual-security', dueDate: '2027-02-15' });
    await sign(new URL(second.link).pathname, second.certification);

    t.clock.set('2027-02-05T09:00:00.000Z');
    let viewer = (await signedIn(t, 'viewer')).agent;
    assert.equal(t.ctx.certifications.displayStatus(await t.ctx.certifications.get(c.id)), 'expiring');
    const expiring = await viewer.get(`/certifications?status=expiring&vendor=${vendor.id}`);
    assert.match(expiring.text, /1 certification matches these filters/);
    assert.match(expiring.text, /<span class="tag cs-expiring">Expiring<\/span>/);
    const list = await viewer.get(`/vendors?q=${encodeURIComponent(vendor.legalName)}`);
    assert.match(list.text, new RegExp(`href="/certifications/${c.id}" class="tag cs-expiring">Expiring</a> <span class="nowrap hint">until 2027-03-01</span>`));
    let due = await certificationDueDates(t.ctx, '2027-02-05');
    assert.ok(due.within30Days.some((d) => d.certificationId === c.id && d.daysLeft === 24 && d.vendorName === vendor.legalName));
    assert.ok(![...due.within30Days, ...due.within7Days, ...due.expired].some((d) => d.vendorId === renewed.vendor.id), 'a renewed certification is not due');
    due = await certificationDueDates(t.ctx, '2027-02-25');
    assert.ok(due.within7Days.some((d) => d.certificationId === c.id && d.stage === 'within_7_days'));
    due = await certificationDueDates(t.ctx, '2027-03-02');
    assert.ok(due.expired.some((d) => d.certificationId === c.id && d.daysLeft === -1));

    t.clock.set('2027-03-02T09:00:00.000Z');
    viewer = (await signedIn(t, 'viewer')).agent;
    assert.equal(t.ctx.certifications.displayStatus(await t.ctx.certifications.get(c.id)), 'expired');
    const expired = await viewer.get(`/certifications?status=expired&vendor=${vendor.id}`);
    assert.match(expired.text, /<span class="tag cs-expired">Expired<\/span>/);
    const vendorPage = await viewer.get(`/vendors/${vendor.id}`);
    assert.match(vendorPage.text, /Written certifications/);
    assert.match(vendorPage.text, /cs-expired/);
    await t.ctx.vendors.transition(systemActor('test'), vendor.id, 'offboarding', 'ending');
    await t.ctx.vendors.transition(systemActor('test'), vendor.id, 'terminated', 'ended', { adminOverride: true });
    due = await certificationDueDates(t.ctx, '2027-03-02');
    assert.ok(!due.expired.some((d) => d.vendorId === vendor.id), 'terminated vendors are not due');
    const bad = await viewer.get('/certifications?status=lost');
    assert.equal(bad.status, 400);
  });

  test('When a certificate is printed or downloaded, then it shows the text, signer, time and hash', async () => {
    const { c, base } = await requestCert();
    assert.equal((await u.viewer.agent.get(`/certifications/${c.id}/certificate.pdf`)).status, 409, 'no certificate before signing');
    const unsigned = await request(t.app).get(`${base}/certificate.pdf`);
    assert.equal(unsigned.status, 200, 'the vendor can print the text to sign on paper');
    assert.equal(unsigned.headers['content-disposition'], 'attachment; filename="annual-security.pdf"');
    await sign(base, c);
    const printable = await u.viewer.agent.get(`/certifications/${c.id}/certificate`);
    assert.equal(printable.status, 200);
    assert.ok(printable.text.includes(c.textSha256));
    assert.match(printable.text, /Sam Signer, CISO, Vendor Inc/);
    assert.match(printable.text, /2026-03-02 09:00:00 UTC/);
    assert.match(printable.text, /The stored text and signature match their hashes/);
    const pdf = await u.viewer.agent.get(`/certifications/${c.id}/certificate.pdf`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (x: Buffer) => chunks.push(x));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    const bytes = pdf.body as Buffer;
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    // Hashes are set in Courier, written as hex strings of their characters.
    const hex = Buffer.from(c.textSha256, 'latin1').toString('hex');
    assert.ok(bytes.toString('latin1').toLowerCase().includes(hex), 'the text hash is in the PDF');
    assert.ok(await t.ctx.ds.getRepository(AuditEntry).findOneBy({ action: 'certification.certificate_downloaded', entityId: String(c.id) }));
    const vendorCopy = await request(t.app).get(`${base}/certificate.pdf`);
    assert.equal(vendorCopy.status, 200, 'the signer can download the signed copy through the link');
  });

  test('When a vendor moves to offboarding, then the disposal certificate is requested, and termination waits for it or an admin override', async () => {
    const { vendor, contact } = await vendorWithContact();
    const res = await submit(u.procurement.agent, `/vendors/${vendor.id}`, `/vendors/${vendor.id}/status`, { to: 'offboarding', reason: 'Contract ends' });
    assert.equal(res.status, 303);
    const disposal = await t.ctx.ds.getRepository(Certification).findOneByOrFail({ vendorId: vendor.id, purpose: 'disposal' });
    assert.equal(disposal.status, 'requested');
    assert.equal(disposal.recipientEmail, contact.email);
    assert.match(disposal.statement, /M\.G\.L\. c\.93I §2/);
    const mail = await smtp.waitFor((m) => m.to.includes(contact.email) && m.subject.includes('Certificate of return or disposal'));
    const link = /(http:\/\/portal\.test\/c\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;

    const blocked = await submit(u.procurement.agent, `/vendors/${vendor.id}`, `/vendors/${vendor.id}/status`, { to: 'terminated', reason: 'Done', override: 'on' });
    assert.equal(blocked.status, 409, 'procurement cannot override');
    assert.match(blocked.text, /cannot be terminated before it signs the certificate of return or disposal/);
    assert.equal((await t.ctx.vendors.get(vendor.id)).status, 'offboarding');
    const page = await u.viewer.agent.get(`/vendors/${vendor.id}`);
    assert.match(page.text, /was requested and is not signed yet/);

    await sign(new URL(link).pathname, disposal);
    const ok = await submit(u.procurement.agent, `/vendors/${vendor.id}`, `/vendors/${vendor.id}/status`, { to: 'terminated', reason: 'Data destroyed' });
    assert.equal(ok.status, 303);
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOne({ where: { action: 'vendor.status_changed', entityId: String(vendor.id) }, order: { id: 'DESC' } });
    assert.deepEqual(entry!.changes!.status, ['offboarding', 'terminated']);
    assert.equal(entry!.details!.disposalCertificationId, disposal.id);

    // Re-engaged and offboarded again: the old certificate belongs to the old relationship.
    t.clock.advance(DAY);
    for (const to of ['prospect', 'onboarding', 'active', 'offboarding'] as const) await t.ctx.vendors.transition(systemActor('test'), vendor.id, to, 'again');
    await assert.rejects(t.ctx.vendors.transition(systemActor('test'), vendor.id, 'terminated', 'again'), /cannot be terminated before it signs/);
    assert.equal(await t.ctx.ds.getRepository(Certification).countBy({ vendorId: vendor.id, purpose: 'disposal', status: 'requested' }), 1, 'a new disposal certificate was requested');
  });

  test('When an offboarding vendor has no security contact, then the page says a certificate must be requested, and an admin may override with a reason', async () => {
    const vendor = await makeVendor(t, { status: 'active' });
    assert.equal((await submit(u.procurement.agent, `/vendors/${vendor.id}`, `/vendors/${vendor.id}/status`, { to: 'offboarding', reason: 'Ending' })).status, 303);
    assert.equal(await t.ctx.ds.getRepository(Certification).countBy({ vendorId: vendor.id }), 0);
    const page = await u.legal.agent.get(`/vendors/${vendor.id}`);
    assert.match(page.text, /no certificate of return or disposal has been requested, because it has no security contact\. One must be requested and signed/);
    assert.match(page.text, new RegExp(`href="/vendors/${vendor.id}/certifications/new\\?template=disposal"`));
    const adminPage = await u.admin.agent.get(`/vendors/${vendor.id}`);
    assert.match(adminPage.text, /Terminate without a signed disposal certificate/);
    const noOverride = await submit(u.admin.agent, `/vendors/${vendor.id}`, `/vendors/${vendor.id}/status`, { to: 'terminated', reason: 'Vendor went out of business' });
    assert.equal(noOverride.status, 409);
    const res = await submit(u.admin.agent, `/vendors/${vendor.id}`, `/vendors/${vendor.id}/status`, { to: 'terminated', reason: 'Vendor went out of business; data destroyed by the receiver', override: 'on' });
    assert.equal(res.status, 303);
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOne({ where: { action: 'vendor.status_changed', entityId: String(vendor.id) }, order: { id: 'DESC' } });
    assert.equal(entry!.details!.overrideOfMissingDisposalCertificate, true);
    assert.equal(entry!.details!.reason, 'Vendor went out of business; data destroyed by the receiver');

    const outOfScope = await makeVendor(t, { status: 'active', piElements: [], recordVolume: 'none', accessModes: [] });
    await t.ctx.vendors.transition(systemActor('test'), outOfScope.id, 'offboarding', 'x');
    await t.ctx.vendors.transition(systemActor('test'), outOfScope.id, 'terminated', 'x');
    assert.equal((await t.ctx.vendors.get(outOfScope.id)).status, 'terminated', 'a vendor without personal information has nothing to dispose of');
  });

  test('When a questionnaire is submitted, then legal is offered the certification as the last step, linked to the questionnaire', async () => {
    const { vendor, contact } = await vendorWithContact();
    const { questionnaire } = await t.ctx.questionnaires.send(actorOf('admin'), { vendorId: vendor.id, contactId: contact.id, templateId: 'annual-reassessment', dueDate: '2026-04-01' });
    await t.ctx.ds.getRepository(Questionnaire).update({ id: questionnaire.id }, { status: 'submitted', submittedAt: t.clock.now() });
    const page = await u.legal.agent.get(`/questionnaires/${questionnaire.id}`);
    assert.match(page.text, /Last step: the written certification/);
    assert.doesNotMatch((await u.procurement.agent.get(`/questionnaires/${questionnaire.id}`)).text, /Last step: the written certification/);
    const form = await u.legal.agent.get(`/vendors/${vendor.id}/certifications/new?questionnaire=${questionnaire.id}`);
    assert.match(form.text, new RegExp(`<option value="${contact.id}" selected>`));
    assert.match(form.text, /<option value="annual-security" selected>/);
    const res = await u.legal.agent.post(`/vendors/${vendor.id}/certifications/new`).type('form').send({ _csrf: csrfFrom(form.text), contactId: String(contact.id), templateId: 'annual-security', dueDate: '2026-04-01', questionnaireId: String(questionnaire.id) });
    assert.equal(res.status, 201);
    const c = await t.ctx.ds.getRepository(Certification).findOneByOrFail({ vendorId: vendor.id });
    assert.equal(c.questionnaireId, questionnaire.id);
    const other = await vendorWithContact();
    const crossed = await submit(u.legal.agent, `/vendors/${other.vendor.id}/certifications/new`, `/vendors/${other.vendor.id}/certifications/new`, { contactId: String(other.contact.id), templateId: 'annual-security', questionnaireId: String(questionnaire.id) });
    assert.equal(crossed.status, 404, "another vendor's questionnaire is out of reach");
  });

  test('When the API is used, then legal requests, everyone reads and verifies, and other roles cannot write', async () => {
    const tokens = {} as Record<Role, string>;
    for (const role of ['legal', 'viewer', 'procurement', 'reviewer'] as const) tokens[role] = (await t.ctx.apiTokens.create(actorOf(role), `${role} api`)).token;
    const api = (role: Role) => ({
      get: (p: string) => request(t.app).get(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[role]}`),
      post: (p: string, body: object) => request(t.app).post(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[role]}`).send(body),
    });
    const { vendor, contact } = await vendorWithContact();
    assert.equal((await api('procurement').post(`/vendors/${vendor.id}/certifications`, { contactId: contact.id, templateId: 'annual-security' })).status, 403);
    const bad = await api('legal').post(`/vendors/${vendor.id}/certifications`, { contactId: contact.id, templateId: 'annual-security', colour: 'red' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.fields.colour, 'Unknown field.');
    const created = await api('legal').post(`/vendors/${vendor.id}/certifications`, { contactId: contact.id, templateId: 'annual-security', dueDate: '2026-04-15' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.link, /^http:\/\/portal\.test\/c\//);
    assert.equal(created.body.status, 'requested');
    assert.equal(created.headers.location, `/api/v1/certifications/${created.body.id}`);
    const one = await api('viewer').get(`/certifications/${created.body.id}`);
    assert.equal(one.body.textSha256, crypto.createHash('sha256').update(`${one.body.title}\n\n${one.body.statement}`).digest('hex'));
    assert.equal(one.body.signature, null);
    const listed = await api('viewer').get(`/certifications?vendor=${vendor.id}&status=requested`);
    assert.equal(listed.body.total, 1);
    assert.equal((await api('viewer').get(`/vendors/${vendor.id}/certifications`)).body.data.length, 1);
    const verified = await api('viewer').post(`/certifications/${created.body.id}/verify`, {});
    assert.equal(verified.body.verified, true);
    assert.equal((await api('viewer').post(`/certifications/${created.body.id}/revoke`, { reason: 'x' })).status, 403);
    const revoked = await api('legal').post(`/certifications/${created.body.id}/revoke`, { reason: 'Sent by mistake' });
    assert.equal(revoked.body.status, 'revoked');
    assert.equal(revoked.body.revoked.reason, 'Sent by mistake');
    assert.equal((await api('legal').post(`/certifications/${created.body.id}/confirm`, {})).status, 409);
    assert.equal((await api('viewer').get('/certifications?status=nope')).status, 400);
  });

  test('When the demo data is loaded, then certifications appear in every state', async () => {
    const names = ['Northwind Payroll Inc.', 'Summit Card Processing LLC', 'Bluefin Benefits Administration LLC', 'Cedar Background Screening Co.', 'Harbor Document Shredding', 'Redwood HR Systems', 'Coastal Records Storage', 'Keystone IT Support', 'Prairie Relocation Services'];
    const fresh = [];
    for (const name of names) {
      const v = await makeVendor(t, { legalName: name, status: name.startsWith('Prairie') ? 'offboarding' : 'active' });
      await t.ctx.vendors.addContact(systemActor('test'), v.id, { name: 'Demo Contact', email: `demo@${v.id}.example`, role: 'CISO', isSecurityContact: true });
      fresh.push({ id: v.id, name });
    }
    await seedCertifications(t.ctx, fresh, u.admin.user);
    const rows = await t.ctx.ds.getRepository(Certification).find({ where: { vendorId: In(fresh.map((f) => f.id)) } });
    const states = new Set(rows.map((c) => t.ctx.certifications.displayStatus(c)));
    assert.deepEqual([...states].sort(), ['declined', 'expired', 'expiring', 'requested', 'revoked', 'signed', 'uploaded']);
    assert.ok(rows.some((c) => c.purpose === 'disposal' && c.status === 'requested'));
    assert.ok(rows.some((c) => c.method === 'upload' && c.status === 'signed' && c.confirmedById === u.admin.user.id));
    for (const c of rows.filter((x) => x.status === 'signed')) assert.equal((await t.ctx.certifications.verify(null, c.id)).ok, true, `demo certification ${c.id} verifies`);
  });

  test('When many vendors are listed, then their certification statuses come from one query', async () => {
    const vendors = await Promise.all([1, 2, 3].map(() => vendorWithContact()));
    for (const v of vendors) await t.ctx.certifications.request(actorOf('legal'), { vendorId: v.vendor.id, contactId: v.contact.id, templateId: 'annual-security' });
    let queries = 0;
    const logger = t.ctx.ds.logger;
    const original = logger.logQuery.bind(logger);
    const counting = (q: string, ...rest: unknown[]) => {
      if (/certifications/.test(q)) queries += 1;
      return (original as (...a: unknown[]) => unknown)(q, ...rest);
    };
    (logger as { logQuery: typeof counting }).logQuery = counting;
    try {
      const map = await t.ctx.certifications.summaries(vendors.map((v) => v.vendor.id));
      assert.equal(map.size, 3);
      for (const v of vendors) assert.equal(map.get(v.vendor.id)?.status, 'requested');
    } finally {
      (logger as { logQuery: typeof original }).logQuery = original;
    }
    assert.equal(queries, 1, `one query, not one per vendor (saw ${queries})`);
  });

  // Last in the file: it uses up this address's allowance of failed look-ups.
  test('When someone guesses links, then failed look-ups are limited and tokens never reach the logs', async () => {
    const token = 'B'.repeat(43);
    assert.equal(redactUrl(`/c/${token}/sign`), '/c/[token]/sign');
    assert.equal(redactUrl(`/c/${token}/upload?_csrf=abc`), '/c/[token]/upload?_csrf=[redacted]');
    let status = 0;
    for (let i = 0; i < 40 && status !== 429; i++) status = (await request(t.app).get(`/c/${'C'.repeat(40)}${String(i).padStart(3, '0')}`)).status;
    assert.equal(status, 429);
    const limited = await request(t.app).get(`/c/${token}`);
    assert.equal(limited.status, 429);
    assert.match(limited.text, /Too many invalid links were opened from your address/);
  });
});
