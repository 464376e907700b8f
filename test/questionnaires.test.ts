import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { AuditEntry } from '../server/audit/entities';
import { DAY } from '../server/clock';
import { QUESTIONNAIRES_DIR } from '../server/paths';
import { EvidenceFile, Questionnaire, QuestionnaireAnswer, TemplateSnapshot } from '../server/questionnaires/entities';
import { loadTemplates, parseTemplate } from '../server/questionnaires/template';
import { createTestApp, type TestApp } from './helpers/app';
import { type Agent, csrfFrom, makeVendor, signedIn, submit } from './helpers/http';
import { PDF, saveSection, submitAnswers, TEST_TEMPLATE } from './helpers/portal';
import { type SmtpListener, startSmtp } from './helpers/smtp';

describe('questionnaire templates', () => {
  test('When the shipped templates load, then every one is valid and the due diligence covers every requirement', () => {
    const loaded = loadTemplates(QUESTIONNAIRES_DIR);
    assert.deepEqual(loaded.map((t) => t.id).sort(), ['annual-reassessment', 'ma-201-cmr-17-due-diligence', 'offboarding-data-return']);
    for (const t of loaded) assert.ok(t.valid, `${t.file}: ${t.errors.join('; ')}`);
    const dd = loaded.find((t) => t.id === 'ma-201-cmr-17-due-diligence')!.template!;
    const citations = new Set(dd.sections.flatMap((s) => s.questions.flatMap((q) => q.citations)));
    const required = ['201 CMR 17.03(1)', ...'abcdefghij'.split('').map((l) => `201 CMR 17.03(2)(${l})`), ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `201 CMR 17.04(${n})`), ...[1, 2, 3, 4, 5].map((n) => `Due diligence DD-0${n}`)];
    for (const c of required) assert.ok(citations.has(c), `missing ${c}`);
    const text = JSON.stringify(dd);
    assert.doesNotMatch(text, /17\.00 requires? (a )?written certification/i);
  });

  test('When a file is broken, then the error names the file, the path inside it and the problem', () => {
    const syntax = parseTemplate('broken.yaml', 'id: x\n  version: [1');
    assert.equal(syntax.valid, false);
    assert.match(syntax.errors[0]!, /^broken\.yaml: /);
    const bad = parseTemplate('bad.yaml', TEST_TEMPLATE.replace('type: number', 'type: slider').replace('estimated_minutes: 5', 'estimated_minutes: 5\ncolour: blue'));
    assert.equal(bad.valid, false);
    const all = bad.errors.join('\n');
    assert.match(all, /bad\.yaml: sections\.0\.questions\.2\.type: /);
    assert.match(all, /bad\.yaml: \(top\): Unrecognized key: "colour"/);
    const order = parseTemplate('order.yaml', TEST_TEMPLATE.replace('show_if: { question: incident, equals: "yes" }', 'show_if: { question: later_one, equals: "yes" }'));
    assert.match(order.errors.join(), /order\.yaml: sections\.1\.questions\.1\.show_if\.question: "later_one" is not an earlier question/);
    const wrongValue = parseTemplate('v.yaml', TEST_TEMPLATE.replace('- when: { equals: "no" }', '- when: { equals: "maybe" }'));
    assert.match(wrongValue.errors.join(), /"maybe" is not an answer of that question/);
    const dup = parseTemplate('d.yaml', TEST_TEMPLATE.replace('id: trained', 'id: wisp'));
    assert.match(dup.errors.join(), /question id "wisp" is used twice/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-twins-'));
    fs.writeFileSync(path.join(dir, 'a.yaml'), TEST_TEMPLATE);
    fs.writeFileSync(path.join(dir, 'b.yaml'), TEST_TEMPLATE);
    const twins = loadTemplates(dir);
    assert.deepEqual(twins.map((t) => t.valid), [false, false], 'two files with one id are both refused');
    assert.match(twins[1]!.errors[0]!, /^b\.yaml: id "test-dd" is also used by a\.yaml/);
  });
});

describe('questionnaires', () => {
  let t: TestApp;
  let smtp: SmtpListener;
  let dir: string;
  let proc: Awaited<ReturnType<typeof signedIn>>;
  let viewer: Agent;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
    fs.writeFileSync(path.join(dir, 'test-dd.yaml'), TEST_TEMPLATE);
    fs.writeFileSync(path.join(dir, 'broken.yaml'), 'id: broken\nversion: one\n');
    smtp = await startSmtp();
    t = await createTestApp({ smtp, templatesDir: dir });
    proc = await signedIn(t, 'procurement');
    viewer = (await signedIn(t, 'viewer')).agent;
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  /** A vendor with a security contact, and a questionnaire sent to it through the form. */
  async function send(overrides: { dueDate?: string } = {}) {
    const vendor = await makeVendor(t, { businessOwnerId: proc.user.id });
    const contact = await t.ctx.vendors.addContact({ type: 'system', id: null, label: 'test', ip: null }, vendor.id, { name: 'Vera Vendor', email: `vera${vendor.id}@vendor.example`, isSecurityContact: true });
    const res = await submit(proc.agent, `/vendors/${vendor.id}/questionnaires/new`, `/vendors/${vendor.id}/questionnaires/new`, { contactId: String(contact.id), templateId: 'test-dd', dueDate: overrides.dueDate ?? '2026-04-01' });
    assert.equal(res.status, 201, res.text.slice(0, 400));
    const link = /value="(http:\/\/portal\.test\/q\/[A-Za-z0-9_-]+)"/.exec(res.text)![1]!;
    const q = await t.ctx.ds.getRepository(Questionnaire).findOneByOrFail({ vendorId: vendor.id });
    return { vendor, contact, q, link, base: new URL(link).pathname };
  }

  test('When procurement sends a questionnaire, then the contact gets an email whose link opens a welcoming page', async () => {
    const { vendor, link, base, contact } = await send();
    const mail = await smtp.waitFor((m) => m.to.includes(contact.email));
    assert.match(mail.subject, /Our organization asks .* to answer: Test due diligence/);
    assert.ok(mail.text.includes(link), 'the emailed link is the one shown to the sender');
    assert.match(mail.text, /201 CMR 17\.03\(2\)\(f\)/);
    assert.match(mail.html, /<a href="http:\/\/portal\.test\/q\//);
    const page = await request(t.app).get(base);
    assert.equal(page.status, 200);
    assert.match(page.text, new RegExp(`asks ${vendor.legalName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} to answer this questionnaire by <strong>2026-04-01</strong>`));
    assert.match(page.text, /<strong>0 of 5<\/strong>/, 'progress over the questions shown');
    assert.equal(page.headers['set-cookie'], undefined, 'the vendor portal sets no cookie');
    assert.ok(await t.ctx.ds.getRepository(AuditEntry).findOneBy({ action: 'questionnaire.opened' }));
  });

  test('When the template file changes after sending, then the sent questionnaire keeps its snapshot', async () => {
    const { q, base } = await send();
    fs.writeFileSync(path.join(dir, 'test-dd.yaml'), TEST_TEMPLATE.replace('version: 1', 'version: 2').replace('Do you maintain a written information security program?', 'CHANGED QUESTION TEXT?'));
    t.ctx.templates.reload();
    try {
      const page = await request(t.app).get(`${base}/s/program`);
      assert.match(page.text, /Do you maintain a written information security program\?/);
      assert.doesNotMatch(page.text, /CHANGED QUESTION TEXT/);
      const stored = await t.ctx.questionnaires.get(q.id);
      assert.equal(stored.templateVersion, 1);
      const snapshots = await t.ctx.ds.getRepository(TemplateSnapshot).find();
      assert.equal(snapshots.filter((x) => x.templateId === 'test-dd').length, 1, 'one stored snapshot serves every questionnaire sent with the same content');
      assert.equal(stored.templateHash, parseTemplate('x.yaml', TEST_TEMPLATE).contentHash);
    } finally {
      fs.writeFileSync(path.join(dir, 'test-dd.yaml'), TEST_TEMPLATE);
      t.ctx.templates.reload();
    }
  });

  test('When a template is invalid, then admins see why and it cannot be sent', async () => {
    const admin = await signedIn(t, 'admin');
    const list = await admin.agent.get('/admin/templates');
    assert.match(list.text, /Invalid: cannot be sent/);
    assert.match(list.text, /broken\.yaml: version: /);
    const vendor = await makeVendor(t);
    const c = await t.ctx.vendors.addContact({ type: 'system', id: null, label: 'test', ip: null }, vendor.id, { name: 'X', email: 'x@v.example', isSecurityContact: true });
    const res = await submit(proc.agent, `/vendors/${vendor.id}/questionnaires/new`, `/vendors/${vendor.id}/questionnaires/new`, { contactId: String(c.id), templateId: 'broken', dueDate: '2026-04-01' });
    assert.equal(res.status, 400);
    assert.match(res.text, /Choose a valid questionnaire template/);
    const preview = await admin.agent.get('/admin/templates/test-dd');
    assert.match(preview.text, /No written information security program\./);
  });

  test('When links are unknown, replaced, revoked or expired, then they answer 404 or 410 and never name the vendor', async () => {
    const unknown = await request(t.app).get('/q/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /not valid/);

    const first = await send();
    const res = await submit(proc.agent, `/questionnaires/${first.q.id}`, `/questionnaires/${first.q.id}/resend`, {});
    assert.equal(res.status, 200);
    const newLink = /value="(http:\/\/portal\.test\/q\/[A-Za-z0-9_-]+)"/.exec(res.text)![1]!;
    const old = await request(t.app).get(first.base);
    assert.equal(old.status, 410);
    assert.match(old.text, /A newer link to this questionnaire was sent/);
    assert.match(old.text, new RegExp(proc.email), 'says whom to contact');
    assert.ok(!old.text.includes(first.vendor.legalName), 'no vendor name on a dead link');
    assert.equal((await request(t.app).get(new URL(newLink).pathname)).status, 200);

    const second = await send();
    const revoked = await submit(proc.agent, `/questionnaires/${second.q.id}`, `/questionnaires/${second.q.id}/revoke`, { reason: 'Sent to the wrong person' });
    assert.equal(revoked.status, 303);
    const gone = await request(t.app).get(second.base);
    assert.equal(gone.status, 410);
    assert.match(gone.text, /withdrawn/);

    const third = await send({ dueDate: '2026-03-10' });
    t.clock.set('2026-03-24T12:00:00Z');
    assert.equal((await request(t.app).get(third.base)).status, 200, 'still inside the 14-day grace');
    t.clock.set('2026-03-25T00:00:01Z');
    const expired = await request(t.app).get(third.base);
    assert.equal(expired.status, 410);
    assert.match(expired.text, /expired/);
    assert.equal(t.ctx.questionnaires.displayStatus(await t.ctx.questionnaires.get(third.q.id)), 'expired');
    await t.ctx.questionnaires.extend({ type: 'system', id: null, label: 'test', ip: null }, third.q.id, '2026-04-30');
    assert.equal((await request(t.app).get(third.base)).status, 200, 'extending the due date revives the link');
    t.clock.set('2026-03-02T09:00:00.000Z');
  });

  test('When the vendor saves over two sittings, then every answer is kept server-side and bad values come back typed', async () => {
    const { base, q } = await send();
    const first = await saveSection(t.app, base, 'program', { wisp: 'yes', trained: 'ninety' });
    assert.equal(first.status, 400);
    assert.match(first.text, /Enter a number, such as 95 or 12\.5\./);
    assert.match(first.text, /value="ninety"/, 'the typed value is shown again');
    assert.match(first.text, /id="wisp--yes" name="a__wisp" value="yes" checked/);
    const stored = (await t.ctx.questionnaires.content(q.id)).answers;
    assert.equal(stored.get('wisp'), 'yes', 'valid answers were saved');
    assert.equal(stored.has('trained'), false);

    const second = await saveSection(t.app, base, 'program', { wisp: 'yes', trained: '87.5' }, { action: 'next' });
    assert.equal(second.status, 303);
    assert.equal(second.headers.location, `${base}/s/incidents`);
    // A new sitting: no cookies at all, just the link.
    const later = await request(t.app).get(`${base}/s/program`);
    assert.match(later.text, /value="87\.5"/);
    assert.equal((await t.ctx.questionnaires.get(q.id)).status, 'in_progress');
    const third = await saveSection(t.app, base, 'incidents', { incident: 'no', reports: ['soc2', 'iso27001'], reviewed_on: '2026-01-20' });
    assert.equal(third.status, 303);
    const answers = (await t.ctx.questionnaires.content(q.id)).answers;
    assert.deepEqual(answers.get('reports'), ['soc2', 'iso27001']);
    assert.equal(answers.get('reviewed_on'), '2026-01-20');
    assert.equal(answers.get('trained'), 87.5);
  });

  test('When a conditional question applies, then it shows and is required; when not, it is neither', async () => {
    const { base } = await send();
    const page = await request(t.app).get(`${base}/s/incidents`);
    assert.match(page.text, /id="q-incident_details" hidden data-show-if="\{&#34;question&#34;:&#34;incident&#34;,&#34;equals&#34;:&#34;yes&#34;\}"/);
    await saveSection(t.app, base, 'incidents', { incident: 'yes' });
    const shown = await request(t.app).get(`${base}/s/incidents`);
    assert.doesNotMatch(shown.text, /id="q-incident_details" hidden/);
    await saveSection(t.app, base, 'program', { wisp: 'no' });
    const review = await request(t.app).get(`${base}/review`);
    assert.match(review.text, /Describe the incident and its remediation\./);
    assert.doesNotMatch(review.text, /href="[^"]*#q-wisp_doc"/, 'the WISP upload is not asked for after "no"');
    const refused = await submitAnswers(t.app, base);
    assert.equal(refused.status, 400);
    assert.match(refused.text, /1 required question is not answered yet/);
    assert.match(refused.text, /href="\/q\/[^"]+\/s\/incidents#q-incident_details"/);
    await saveSection(t.app, base, 'incidents', { incident: 'yes', incident_details: 'Phishing in 2025; MFA enforced since.' });
    assert.equal((await submitAnswers(t.app, base)).status, 303);
  });

  test('When evidence is uploaded, then only accepted types pass, names are cleaned, and the file is encrypted at rest', async () => {
    const { base, q } = await send();
    const exe = Buffer.concat([Buffer.from('MZ\x90\x00', 'latin1'), Buffer.alloc(200, 1)]);
    const spoofed = await saveSection(t.app, base, 'program', { wisp: 'yes' }, { files: [{ questionId: 'wisp_doc', name: 'report.pdf', content: exe }] });
    assert.equal(spoofed.status, 400);
    assert.match(spoofed.text, /was not accepted: upload PDF, PNG, JPEG/);
    const empty = await saveSection(t.app, base, 'program', { wisp: 'yes' }, { files: [{ questionId: 'wisp_doc', name: 'empty.pdf', content: Buffer.alloc(0) }] });
    assert.equal(empty.status, 400);
    assert.equal(await t.ctx.ds.getRepository(EvidenceFile).countBy({ questionnaireId: q.id }), 0);

    const ok = await saveSection(t.app, base, 'program', { wisp: 'yes' }, { files: [{ questionId: 'wisp_doc', name: '../../etc/..\\x<script>.pdf', content: PDF }] });
    assert.equal(ok.status, 303);
    const file = await t.ctx.ds.getRepository(EvidenceFile).findOneByOrFail({ questionnaireId: q.id });
    assert.equal(file.fileName, 'xscript.pdf');
    assert.equal(file.mediaType, 'application/pdf');
    assert.equal(file.sha256, (await import('node:crypto')).createHash('sha256').update(PDF).digest('hex'));
    const onDisk = fs.readFileSync(t.ctx.evidence.pathOf(file.storedName));
    assert.ok(!onDisk.includes(Buffer.from('CONFIDENTIAL-SOC2-CONTENT')), 'the stored file does not contain the plaintext');
    assert.ok(!onDisk.includes(Buffer.from('%PDF')));
    const evidenceDir = path.join(t.config.dataDir, 'evidence');
    assert.deepEqual(fs.readdirSync(evidenceDir).filter((n) => n.endsWith('.tmp')), []);

    const big = await saveSection(t.app, base, 'program', { wisp: 'yes' }, { files: [{ questionId: 'wisp_doc', name: 'big.pdf', content: Buffer.concat([PDF, Buffer.alloc(26 * 1024 * 1024)]) }] });
    assert.equal(big.status, 413);
    assert.equal(fs.readdirSync(evidenceDir).length, 1, 'nothing left on disk from a refused upload');

    const removed = await saveSection(t.app, base, 'program', { wisp: 'yes' }, { action: `remove:${file.id}` });
    assert.equal(removed.status, 303);
    assert.equal(await t.ctx.ds.getRepository(EvidenceFile).countBy({ questionnaireId: q.id }), 0);
    assert.equal(fs.existsSync(t.ctx.evidence.pathOf(file.storedName)), false);
  });

  test('When answers and evidence are read together, then each answer keeps its value and type, and the files come oldest first with their details', async () => {
    const { base, q } = await send();
    assert.deepEqual(await t.ctx.questionnaires.content(q.id), { answers: new Map(), files: [] }, 'nothing yet');
    await saveSection(t.app, base, 'program', { wisp: 'yes', trained: '87.5' }, { files: [{ questionId: 'wisp_doc', name: 'first.pdf', content: PDF }] });
    t.clock.advance(60_000);
    await saveSection(t.app, base, 'program', { wisp: 'yes', trained: '87.5' }, { files: [{ questionId: 'wisp_doc', name: 'second.pdf', content: Buffer.concat([PDF, Buffer.from('more')]) }] });
    await saveSection(t.app, base, 'incidents', { incident: 'no', reports: ['soc2'] });
    const { answers, files } = await t.ctx.questionnaires.content(q.id);
    assert.deepEqual(Object.fromEntries(answers), { wisp: 'yes', trained: 87.5, incident: 'no', reports: ['soc2'] });
    assert.deepEqual(files.map((f) => [f.fileName, f.questionId, f.size]), [['first.pdf', 'wisp_doc', PDF.length], ['second.pdf', 'wisp_doc', PDF.length + 4]]);
    assert.ok(files.every((f) => f instanceof EvidenceFile && f.uploadedAt instanceof Date && typeof f.id === 'number'));
    assert.equal(files[1]!.uploadedAt.getTime() - files[0]!.uploadedAt.getTime(), 60_000);
    assert.deepEqual(files, await t.ctx.questionnaires.files(q.id), 'the same files as read on their own');
  });

  test('When the vendor opens a page showing the answers, then the link, its questionnaire, the answers and the files are read in one query', async () => {
    const { base } = await send();
    await saveSection(t.app, base, 'program', { wisp: 'yes', trained: '90' }, { files: [{ questionId: 'wisp_doc', name: 'policy.pdf', content: PDF }] });
    assert.equal((await request(t.app).get(base)).status, 200, 'opened once: the first opening is recorded');
    const logger = t.ctx.ds.logger;
    const original = logger.logQuery.bind(logger);
    const pages: [string, RegExp[]][] = [
      [base, [/<strong>[1-9]\d* of \d+<\/strong> questions answered/]],
      [`${base}/s/program`, [/value="90"/, /policy\.pdf/]],
      [`${base}/review`, [/policy\.pdf/]],
    ];
    for (const [page, shows] of pages) {
      const queries: string[] = [];
      (logger as { logQuery: (q: string, ...rest: unknown[]) => unknown }).logQuery = (q: string, ...rest: unknown[]) => {
        queries.push(q);
        return (original as (...a: unknown[]) => unknown)(q, ...rest);
      };
      let res: request.Response;
      try {
        res = await request(t.app).get(page);
      } finally {
        (logger as { logQuery: typeof original }).logQuery = original;
      }
      assert.equal(res.status, 200, page);
      for (const shown of shows) assert.match(res.text, shown, `${page} shows the saved answers and file`);
      assert.equal(queries.length, 1, `${page}: ${queries.join('\n')}`);
    }
  });

  test("When one vendor's link is used on another's records, then nothing is reached", async () => {
    const a = await send();
    const b = await send();
    await saveSection(t.app, b.base, 'program', { wisp: 'yes' }, { files: [{ questionId: 'wisp_doc', name: 'b.pdf', content: PDF }] });
    const bFile = await t.ctx.ds.getRepository(EvidenceFile).findOneByOrFail({ questionnaireId: b.q.id });
    const res = await saveSection(t.app, a.base, 'program', { wisp: 'yes' }, { action: `remove:${bFile.id}` });
    assert.equal(res.status, 404);
    assert.equal(await t.ctx.ds.getRepository(EvidenceFile).countBy({ id: bFile.id }), 1);
    assert.equal((await request(t.app).get(`/questionnaires/${b.q.id}/files/${bFile.id}`)).status, 303, 'staff downloads need a staff sign-in');
    const forged = await request(t.app).post(`${a.base}/s/program?_csrf=${'x'.repeat(43)}`).field('present__wisp', '1').field('a__wisp', 'no');
    assert.equal(forged.status, 403);
    const bToken = /\?_csrf=([^"&]+)/.exec((await request(t.app).get(`${b.base}/s/program`)).text)![1]!;
    const crossed = await request(t.app).post(`${a.base}/s/program?_csrf=${bToken}`).field('present__wisp', '1').field('a__wisp', 'no');
    assert.equal(crossed.status, 403, "another link's form token does not work");
  });

  test('When the vendor submits, then answers lock, both people are emailed, and the link shows a read-only copy', async () => {
    const { base, q, contact, vendor } = await send();
    await saveSection(t.app, base, 'program', { wisp: 'yes' }, { files: [{ questionId: 'wisp_doc', name: 'wisp.pdf', content: PDF }] });
    await saveSection(t.app, base, 'incidents', { incident: 'no' });
    const done = await submitAnswers(t.app, base);
    assert.equal(done.status, 303);
    assert.equal(done.headers.location, `${base}/done`);
    const stored = await t.ctx.questionnaires.get(q.id);
    assert.equal(stored.status, 'submitted');
    await smtp.waitFor((m) => m.to.includes(contact.email) && m.subject === 'Received: your answers to "Test due diligence"');
    const ownerMail = await smtp.waitFor((m) => m.to.includes(proc.email) && m.subject === `${vendor.legalName} submitted "Test due diligence"`);
    assert.match(ownerMail.text, new RegExp(`http://portal\\.test/questionnaires/${q.id}`));
    const copy = await request(t.app).get(base);
    assert.equal(copy.status, 200);
    assert.match(copy.text, /Submitted on 2026-03-02\. The answers are locked\./);
    assert.match(copy.text, /wisp\.pdf/);
    assert.doesNotMatch(copy.text, /<form/);
    const late = await saveSection(t.app, base, 'program', { wisp: 'no' }).catch((e: Error) => e);
    assert.ok(late instanceof Error || [303, 409].includes(late.status));
    assert.equal((await t.ctx.questionnaires.content(q.id)).answers.get('wisp'), 'yes');
    assert.equal((await request(t.app).post(`${base}/submit`).type('form').send({ _csrf: 'x' })).status, 403);

    const staffPage = await viewer.get(`/questionnaires/${q.id}`);
    assert.match(staffPage.text, /Submitted/);
    const fileId = /href="\/questionnaires\/\d+\/files\/(\d+)"/.exec(staffPage.text)![1];
    const download = await viewer.get(`/questionnaires/${q.id}/files/${fileId}`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.equal(download.status, 200);
    assert.ok((download.body as Buffer).equals(PDF), 'decrypted back to the original');
    assert.match(String(download.headers['content-disposition']), /^attachment; filename="wisp\.pdf"/);
    assert.equal(download.headers['x-content-type-options'], 'nosniff');
    assert.ok(await t.ctx.ds.getRepository(AuditEntry).findOneBy({ action: 'evidence.downloaded', entityId: String(q.id) }));
    assert.equal(await t.ctx.ds.getRepository(QuestionnaireAnswer).countBy({ questionnaireId: q.id }), 2);
  });

  test('When mail is kept locally, then each message is also an .eml file under DATA_DIR/mail', async () => {
    const local = await createTestApp({ templatesDir: dir });
    try {
      const p = await signedIn(local, 'procurement');
      const vendor = await makeVendor(local);
      const c = await local.ctx.vendors.addContact({ type: 'system', id: null, label: 'test', ip: null }, vendor.id, { name: 'L', email: 'l@v.example', isSecurityContact: true });
      await submit(p.agent, `/vendors/${vendor.id}/questionnaires/new`, `/vendors/${vendor.id}/questionnaires/new`, { contactId: String(c.id), templateId: 'test-dd', dueDate: '2026-04-01' });
      await local.ctx.mail.deliverDue();
      const files = fs.readdirSync(path.join(local.config.dataDir, 'mail'));
      assert.equal(files.length, 1);
      const eml = fs.readFileSync(path.join(local.config.dataDir, 'mail', files[0]!), 'utf8');
      assert.match(eml, /^To: l@v\.example/m);
      assert.match(eml, /Content-Type: text\/html/);
      assert.equal(fs.statSync(path.join(local.config.dataDir, 'mail', files[0]!)).mode & 0o777, 0o600);
    } finally {
      await local.close();
    }
  });

  test('When other roles try to send or manage, then they are refused, and the API sends and reads', async () => {
    const { q, vendor, contact } = await send();
    const legal = await signedIn(t, 'legal');
    const _csrf = csrfFrom((await legal.agent.get('/')).text);
    for (const path of [`/vendors/${vendor.id}/questionnaires/new`, `/questionnaires/${q.id}/resend`, `/questionnaires/${q.id}/revoke`, `/questionnaires/${q.id}/extend`]) {
      assert.equal((await legal.agent.post(path).type('form').send({ _csrf, contactId: contact.id, templateId: 'test-dd', reason: 'x', dueDate: '2026-05-01' })).status, 403, path);
    }
    assert.equal((await legal.agent.get(`/questionnaires/${q.id}`)).status, 200);
    const tokenPage = await submit(proc.agent, '/account/tokens', '/account/tokens', { name: 'q api' });
    const token = /value="(ovs_[^"]+)"/.exec(tokenPage.text)![1]!;
    const sent = await request(t.app).post(`/api/v1/vendors/${vendor.id}/questionnaires`).set('Authorization', `Bearer ${token}`).send({ contactId: contact.id, templateId: 'test-dd', dueDate: '2026-05-01' });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    assert.match(sent.body.link, /^http:\/\/portal\.test\/q\//);
    assert.equal(sent.body.status, 'sent');
    const list = await request(t.app).get(`/api/v1/vendors/${vendor.id}/questionnaires`).set('Authorization', `Bearer ${token}`);
    assert.equal(list.body.data.length, 2);
    const one = await request(t.app).get(`/api/v1/questionnaires/${q.id}`).set('Authorization', `Bearer ${token}`);
    assert.equal(one.body.template.id, 'test-dd');
    assert.deepEqual(one.body.evidence, []);
    const bad = await request(t.app).post(`/api/v1/vendors/${vendor.id}/questionnaires`).set('Authorization', `Bearer ${token}`).send({ contactId: contact.id, templateId: 'nope' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.fields.templateId, 'Choose a valid questionnaire template.');
    assert.ok(DAY);
  });
});
