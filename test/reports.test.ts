import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import request from 'supertest';
import yauzl from 'yauzl';
import { AuditEntry } from '../server/audit/entities';
import type { Actor } from '../server/audit/service';
import type { Vendor } from '../server/vendors/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { type Agent, makeVendor, signedIn, submit } from './helpers/http';
import { PDF, saveSection, submitAnswers, TEST_TEMPLATE } from './helpers/portal';

/** Collects a binary response body (supertest leaves zip and pdf bodies unparsed otherwise). */
const binary = (res: { on(event: string, fn: (chunk: Buffer) => void): unknown }, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

/**
 * The text of an uncompressed pdfkit PDF: each TJ array's hex strings decoded and joined, arrays
 * separated by spaces (so words wrapped over two lines read as one phrase).
 */
function pdfText(buf: Buffer): string {
  const src = buf.toString('latin1');
  const out: string[] = [];
  for (const m of src.matchAll(/\[((?:<[0-9a-fA-F]*>|[\s\d.-])*)\] TJ/g)) {
    out.push([...m[1]!.matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => Buffer.from(h[1]!, 'hex').toString('latin1')).join(''));
  }
  return out.join(' ').replace(/\s+/g, ' ');
}

/** Every entry of a ZIP as name -> bytes. */
function unzip(buf: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out = new Map<string, Buffer>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const csvRows = (text: string) => parse(text.replace(/^\uFEFF/, ''), { columns: true }) as Record<string, string>[];

describe('dashboard, reports and exports', () => {
  let t: TestApp;
  let admin: Agent;
  let viewer: Agent;
  let proc: Awaited<ReturnType<typeof signedIn>>;
  let legal: Agent;
  let reviewer: Agent;
  let actor: Actor;
  /** In scope, never assessed, with a submitted questionnaire, evidence, a contract, a certification and findings. */
  let acme: Vendor;
  /** In scope, assessed this year: within its cycle. */
  let current: Vendor;
  /** In scope, last assessed in 2024: overdue. */
  let lapsed: Vendor;
  /** No personal information: out of scope. */
  let outside: Vendor;
  let evidenceSha: string;
  let questionnaireId: number;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
    fs.writeFileSync(path.join(dir, 'test-dd.yaml'), TEST_TEMPLATE);
    t = await createTestApp({ templatesDir: dir });
    admin = (await signedIn(t, 'admin')).agent;
    viewer = (await signedIn(t, 'viewer')).agent;
    legal = (await signedIn(t, 'legal')).agent;
    reviewer = (await signedIn(t, 'reviewer')).agent;
    proc = await signedIn(t, 'procurement');
    actor = { type: 'user', id: proc.user.id, label: proc.email, ip: null };

    acme = await makeVendor(t, { legalName: 'Acme Payroll Services', status: 'onboarding', lastAssessedOn: null, businessOwnerId: proc.user.id });
    current = await makeVendor(t, { legalName: 'Current Care Billing', status: 'active', lastAssessedOn: '2026-01-15' });
    lapsed = await makeVendor(t, { legalName: 'Lapsed Logistics', status: 'active', lastAssessedOn: '2024-06-01' });
    outside = await makeVendor(t, { legalName: 'Outside Office Plants', status: 'active', piElements: [], recordVolume: 'none', accessModes: [] });

    // A questionnaire answered with evidence and submitted.
    const contact = await t.ctx.vendors.addContact(actor, acme.id, { name: 'Vic Vendor', email: 'vic@acme.example', isSecurityContact: true });
    const sent = await submit(proc.agent, `/vendors/${acme.id}/questionnaires/new`, `/vendors/${acme.id}/questionnaires/new`, { contactId: String(contact.id), templateId: 'test-dd', dueDate: '2026-04-01' });
    const link = /value="(http:\/\/portal\.test\/q\/[A-Za-z0-9_-]+)"/.exec(sent.text)![1]!;
    const base = new URL(link).pathname;
    await saveSection(t.app, base, 'program', { wisp: 'yes', trained: '95' }, { files: [{ questionId: 'wisp_doc', name: 'wisp.pdf', content: PDF }] });
    await saveSection(t.app, base, 'incidents', { incident: 'yes', incident_details: 'Phishing in 2025, contained within a day.' });
    assert.equal((await submitAnswers(t.app, base)).status, 303);
    questionnaireId = (await t.ctx.questionnaires.forVendor(acme.id))[0]!.id;
    evidenceSha = sha256(PDF);

    // Findings: one high and one low, by hand.
    await t.ctx.findings.create(actor, acme.id, { title: 'No MFA on the payroll console', severity: 'high', citation: '201 CMR 17.04(1)', remediatedBy: 'vendor', dueDate: '2026-02-01' });
    await t.ctx.findings.create(actor, lapsed.id, { title: 'Training records missing', severity: 'low', citation: '201 CMR 17.04(8)', remediatedBy: 'vendor' });

    // A contract with its signed document.
    await t.ctx.contracts.create(actor, acme.id, { title: 'Master Services Agreement', type: 'msa', status: 'active', effectiveOn: '2024-01-01', expiresOn: null, signedOn: null, autoRenews: false, noticeDays: null, amendsId: null, notes: null }, { originalName: 'signed-msa.pdf', buffer: PDF });

    // A written certification signed on paper, uploaded and confirmed.
    const req = await t.ctx.certifications.request(actor, { vendorId: acme.id, contactId: contact.id, templateId: 'annual-security' });
    const { link: certLink } = await t.ctx.certifications.resolveLink(req.link.split('/').pop()!);
    await t.ctx.certifications.upload({ type: 'vendor_link', id: null, label: 'vendor', ip: null }, req.certification.id, certLink, { signerName: 'Vic Vendor', signerTitle: 'CISO', signerCompany: 'Acme' }, { originalName: 'signed.pdf', buffer: PDF }, { ip: null, userAgent: null });
    await t.ctx.certifications.confirmUpload({ type: 'user', id: null, label: 'legal', ip: null }, req.certification.id);
  });
  after(async () => {
    await t.close();
  });

  describe('the dashboard', () => {
    test('When an admin opens the dashboard, then the headline counts in-scope vendors never assessed or overdue and links to exactly them', async () => {
      const home = await admin.get('/');
      assert.equal(home.status, 200);
      const headline = /<a href="([^"]+)" data-figure="headline">\s*<span class="figure-number">(\d+)<\/span>/.exec(home.text);
      assert.ok(headline, 'the headline figure is a link');
      assert.equal(headline[2], '2', 'Acme (never assessed) and Lapsed (overdue); Current is within its cycle, Outside is out of scope');
      const list = await admin.get(headline[1]!.replace(/&amp;/g, '&'));
      assert.equal(list.status, 200);
      assert.match(list.text, /Acme Payroll Services/);
      assert.match(list.text, /Lapsed Logistics/);
      assert.doesNotMatch(list.text, /Current Care Billing/);
      assert.doesNotMatch(list.text, /Outside Office Plants/);
    });

    test('When the dashboard draws charts, then each is an accessible SVG with its numbers also in a table, and nothing inline the CSP would block', async () => {
      const home = await admin.get('/');
      const svgs = [...home.text.matchAll(/<svg class="bar-chart" role="img" aria-labelledby="([\w-]+)-title \1-desc"/g)].map((m) => m[1]);
      assert.deepEqual(svgs.sort(), ['chart-certifications', 'chart-coverage', 'chart-findings', 'chart-status', 'chart-tier']);
      assert.match(home.text, /<title id="chart-findings-title">Open findings by severity<\/title>/);
      assert.match(home.text, /<desc id="chart-findings-desc">Critical: 0; High: 1; Medium: 0; Low: 1\.<\/desc>/);
      assert.match(home.text, /<a href="\/findings\?status=open&amp;severity=high">1<\/a>/, 'the table beside the chart links each number to its list');
      assert.match(home.text, /<a href="\/vendors\?tier=none" data-figure="chart-tier-None">1<\/a>/);
      assert.match(home.text, /<a href="\/certifications\?status=signed" data-figure="chart-certifications-Valid">1<\/a>/);
      assert.doesNotMatch(home.text, /\sstyle="/, 'no inline style attributes');
      assert.doesNotMatch(home.text, /<script(?![^>]*\ssrc=)/, 'no inline scripts');
      assert.doesNotMatch(home.text, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no external assets');
    });

    test('When legal or a reviewer opens the dashboard, then what matters to the role comes first', async () => {
      const order = (html: string) => ['dash-vendors', 'dash-questionnaires', 'dash-findings', 'dash-coverage', 'dash-certifications', 'dash-amendments'].sort((a, b) => html.indexOf(`id="${a}"`) - html.indexOf(`id="${b}"`));
      const forLegal = order((await legal.get('/')).text);
      assert.deepEqual(forLegal.slice(0, 3), ['dash-coverage', 'dash-amendments', 'dash-certifications']);
      const forReviewer = order((await reviewer.get('/')).text);
      assert.deepEqual(forReviewer.slice(0, 2), ['dash-questionnaires', 'dash-findings']);
      assert.match((await reviewer.get('/')).text, /<a href="\/questionnaires\?status=submitted" data-figure="Submitted, awaiting review"><span class="figure-number">1<\/span>/);
    });

    test('When a figure links to a list with a new filter, then the list shows the same number', async () => {
      const home = (await admin.get('/')).text;
      const age = /<a href="(\/findings\?status=open&amp;severity=high&amp;age=[^"]+)">1<\/a>/.exec(home);
      assert.ok(age, 'the high finding sits in an age band');
      const list = await admin.get(age[1]!.replace(/&amp;/g, '&'));
      assert.match(list.text, /1 finding matches these filters/);
      assert.match(list.text, /No MFA on the payroll console/);
      const bad = await admin.get('/findings?age=ancient');
      assert.equal(bad.status, 400);
      assert.match(bad.text, /age must be one of/);
      const due = await admin.get('/questionnaires?due=someday').set('Accept', 'application/json');
      assert.equal(due.status, 400);
      assert.match(JSON.stringify(due.body), /"due"/);
    });

    test('When nobody is signed in, then the dashboard and reports send the browser to sign in', async () => {
      for (const url of ['/', '/reports', '/reports/portfolio.csv', `/vendors/${acme.id}/oversight-record.zip`, '/findings.csv']) {
        const res = await request(t.app).get(url).set('Accept', 'text/html');
        assert.equal(res.status, 303, url);
        assert.match(res.headers.location ?? '', /^\/login\?returnTo=/, url);
      }
    });
  });

  describe('the oversight record', () => {
    test('When a viewer downloads a vendor\'s record, then the ZIP holds the summary, the decrypted files and a manifest whose hashes match', async () => {
      const res = await viewer.get(`/vendors/${acme.id}/oversight-record.zip`).buffer(true).parse(binary);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/zip');
      assert.match(res.headers['content-disposition'] ?? '', /attachment; filename="oversight-record-acme-payroll-services-2026-03-02\.zip"/);
      const entries = await unzip(res.body as Buffer);
      const names = [...entries.keys()];
      assert.equal(names[0], 'oversight-record.pdf', 'the summary comes first');
      assert.equal(names[names.length - 1], 'manifest.json', 'the manifest comes last');
      const evidence = names.find((n) => n.startsWith(`questionnaires/${questionnaireId}/evidence/`) && n.endsWith('-wisp.pdf'));
      const contract = names.find((n) => /^contracts\/\d+\/\d+-signed-signed-msa\.pdf$/.test(n));
      const certificate = names.find((n) => /^certifications\/\d+\/signed\.pdf$/.test(n));
      assert.ok(evidence && contract && certificate, `expected the three stored files, got ${names.join(', ')}`);
      for (const n of [evidence, contract, certificate]) assert.ok(entries.get(n)!.equals(PDF), `${n} is decrypted to what was uploaded`);

      const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as { vendor: { id: number }; files: { path: string; size: number; sha256: string; recordedSha256?: string }[] };
      assert.equal(manifest.vendor.id, acme.id);
      assert.deepEqual(manifest.files.map((f) => f.path).sort(), names.filter((n) => n !== 'manifest.json').sort());
      for (const f of manifest.files) {
        const body = entries.get(f.path)!;
        assert.equal(f.size, body.length, `size of ${f.path}`);
        assert.equal(f.sha256, sha256(body), `SHA-256 of ${f.path}`);
        if (f.path !== 'oversight-record.pdf') assert.equal(f.recordedSha256, evidenceSha, `${f.path} matches the hash recorded at upload`);
      }

      const text = pdfText(entries.get('oversight-record.pdf')!);
      assert.match(text, /Oversight record: Acme Payroll Services/);
      assert.match(text, /Reasons for the computed tier/);
      assert.match(text, /Stores or processes Social Security numbers/);
      assert.match(text, /Do you maintain a written information security program\? .*Yes/);
      assert.match(text, /Phishing in 2025, contained within a day\./, 'answers are in the summary');
      assert.match(text, new RegExp(`SHA-256 ${evidenceSha}`), 'the evidence file is listed with its hash');
      assert.match(text, /No MFA on the payroll console/);
      assert.match(text, /CL-SEC .*Not reviewed/, 'clause coverage');
      assert.match(text, /Annual/);
      assert.match(text, /Audit trail/);
      assert.match(text, /vendor\.created/);
      assert.match(text, /questionnaire\.submitted|questionnaire\.sent/);
      assert.doesNotMatch(text, /Current Care Billing/, 'nothing of another vendor');

      const audit = await t.ctx.ds.getRepository(AuditEntry).findBy({ action: 'report.oversight_record', entityType: 'vendor', entityId: String(acme.id) });
      assert.equal(audit.length, 1);
    });

    test('When the vendor does not exist, then the record answers 404', async () => {
      assert.equal((await viewer.get('/vendors/999999/oversight-record.zip')).status, 404);
      assert.equal((await viewer.get('/vendors/abc/oversight-record.zip')).status, 404);
    });

    test('When the vendor page is shown, then the record is one click away', async () => {
      const page = await legal.get(`/vendors/${acme.id}`);
      assert.match(page.text, new RegExp(`href="/vendors/${acme.id}/oversight-record.zip"`));
    });
  });

  describe('the portfolio report', () => {
    test('When the CSV is asked for a date, then every in-scope vendor is listed with its state on that date', async () => {
      const res = await viewer.get('/reports/portfolio.csv?on=2026-03-02');
      assert.equal(res.status, 200);
      assert.match(res.headers['content-disposition'] ?? '', /portfolio-2026-03-02\.csv/);
      const rows = csvRows(res.text);
      assert.deepEqual(rows.map((r) => r.legal_name), ['Acme Payroll Services', 'Current Care Billing', 'Lapsed Logistics']);
      const by = new Map(rows.map((r) => [r.legal_name, r]));
      assert.equal(by.get('Acme Payroll Services')!.within_cycle, 'no');
      assert.equal(by.get('Current Care Billing')!.within_cycle, 'yes');
      assert.equal(by.get('Current Care Billing')!.vendor_id, String(current.id));
      assert.ok(!rows.some((r) => r.vendor_id === String(outside.id)), 'the out-of-scope vendor is left out');
      assert.equal(by.get('Current Care Billing')!.next_due_on, '2027-01-15');
      assert.equal(by.get('Lapsed Logistics')!.within_cycle, 'no');
      assert.equal(by.get('Acme Payroll Services')!.open_findings_high, '1');
      assert.equal(by.get('Lapsed Logistics')!.open_findings_low, '1');
      assert.equal(by.get('Acme Payroll Services')!.certification, 'valid');
      assert.equal(by.get('Current Care Billing')!.certification, 'none');
      assert.equal(by.get('Acme Payroll Services')!.contract_coverage, 'not_reviewed');
      assert.equal(by.get('Current Care Billing')!.contract_coverage, 'no_contract');

      const before = csvRows((await viewer.get('/reports/portfolio.csv?on=2026-01-01')).text);
      const early = new Map(before.map((r) => [r.legal_name, r]));
      assert.equal(early.get('Current Care Billing')!.within_cycle, 'no', 'not yet assessed on that day');
      assert.equal(early.get('Acme Payroll Services')!.certification, 'none', 'not yet signed on that day');
      assert.equal(early.get('Acme Payroll Services')!.open_findings_high, '0', 'not yet recorded on that day');
    });

    test('When the date is not a real date, then the answer is 400 naming the field', async () => {
      for (const on of ['2026-02-30', 'yesterday', '2026-3-1']) {
        const res = await viewer.get(`/reports/portfolio.pdf?on=${on}`).set('Accept', 'application/json');
        assert.equal(res.status, 400, on);
        assert.ok((res.body as { error: { fields: Record<string, string> } }).error.fields.on, `the field "on" is named for ${on}`);
      }
    });

    test('When the PDF is asked without a date, then it reports on today and is audited', async () => {
      const res = await viewer.get('/reports/portfolio.pdf').buffer(true).parse(binary);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/pdf');
      const text = pdfText(res.body as Buffer);
      assert.match(text, /Vendor oversight on 2026-03-02/);
      assert.match(text, /Acme Payroll Services/);
      assert.match(text, /Lapsed Logistics \(#\d+\) Active · tier High · NOT assessed within its cycle/);
      assert.match(text, /Current Care Billing \(#\d+\) Active · tier High · assessed within its cycle/);
      assert.doesNotMatch(text, /Outside Office Plants/);
      assert.match(text, /Assessed within their cycle: 1 of 3/);
      const audit = await t.ctx.ds.getRepository(AuditEntry).findBy({ action: 'report.portfolio' });
      assert.ok(audit.some((a) => (a.details as { format: string; on: string }).format === 'pdf' && (a.details as { on: string }).on === '2026-03-02'));
    });

    test('When the reports page is opened, then it offers the portfolio report with today as the date', async () => {
      const page = await proc.agent.get('/reports');
      assert.equal(page.status, 200);
      assert.match(page.text, /action="\/reports\/portfolio\.pdf"/);
      assert.match(page.text, /formaction="\/reports\/portfolio\.csv"/);
      assert.match(page.text, /name="on" type="date" value="2026-03-02"/);
    });
  });

  describe('CSV exports of the lists', () => {
    test('When a list is exported with filters, then the CSV holds exactly the filtered rows, and the export is audited', async () => {
      const page = await admin.get('/findings?severity=high');
      assert.match(page.text, /href="\/findings\.csv\?severity=high"/, 'the list links to its export with the same filters');
      const res = await admin.get('/findings.csv?severity=high');
      assert.equal(res.status, 200);
      assert.ok(res.text.startsWith('\uFEFF'), 'byte-order mark for Excel');
      const rows = csvRows(res.text);
      assert.deepEqual(rows.map((r) => r.title), ['No MFA on the payroll console']);
      assert.equal(rows[0]!.vendor, 'Acme Payroll Services');
      assert.equal(rows[0]!.overdue, 'yes');
      const audit = await t.ctx.ds.getRepository(AuditEntry).findBy({ action: 'report.list_exported', entityId: 'findings' });
      assert.deepEqual(audit.map((a) => a.details), [{ list: 'findings', filters: { severity: 'high' } }]);
    });

    test('When the other lists are exported, then each gives its rows', async () => {
      const q = csvRows((await admin.get('/questionnaires.csv?status=submitted')).text);
      assert.deepEqual(q.map((r) => [r.vendor, r.status, r.template_id]), [['Acme Payroll Services', 'submitted', 'test-dd']]);
      assert.equal(csvRows((await admin.get('/questionnaires.csv?status=approved')).text).length, 0);
      const c = csvRows((await admin.get(`/contracts.csv?vendor=${acme.id}`)).text);
      assert.deepEqual(c.map((r) => [r.title, r.status, r.document_sha256]), [['Master Services Agreement', 'active', evidenceSha]]);
      const certs = csvRows((await admin.get('/certifications.csv?status=signed')).text);
      assert.deepEqual(certs.map((r) => [r.vendor, r.method, r.status]), [['Acme Payroll Services', 'upload', 'signed']]);
      const v = csvRows((await admin.get('/vendors/export.csv?scope=in&assessment=outside_cycle')).text);
      assert.deepEqual(v.map((r) => r.legal_name).sort(), ['Acme Payroll Services', 'Lapsed Logistics']);
      const bad = await admin.get('/contracts.csv?status=bogus');
      assert.equal(bad.status, 400);
    });

    test('When a cell would run as a formula in a spreadsheet, then it is exported with a leading quote', async () => {
      const evil = await makeVendor(t, { legalName: '=HYPERLINK("http://evil.example","click")', status: 'active' });
      await t.ctx.findings.create(actor, evil.id, { title: '+SUM(A1:A9)', severity: 'medium', citation: '201 CMR 17.03(1)', remediatedBy: 'vendor' });
      const rows = csvRows((await admin.get('/findings.csv?severity=medium')).text);
      assert.equal(rows[0]!.vendor, `'=HYPERLINK("http://evil.example","click")`);
      assert.equal(rows[0]!.title, `'+SUM(A1:A9)`);
    });

    test('When the audit log is exported, then only admins and viewers may, and the rows follow the filters', async () => {
      assert.equal((await proc.agent.get('/admin/audit/export.csv')).status, 403);
      assert.equal((await legal.get('/admin/audit/export.csv')).status, 403);
      const page = await viewer.get('/admin/audit?action=finding.');
      assert.match(page.text, /href="\/admin\/audit\/export\.csv\?action=finding\."/);
      const res = await viewer.get('/admin/audit/export.csv?action=finding.');
      assert.equal(res.status, 200);
      const rows = csvRows(res.text);
      assert.ok(rows.length >= 3);
      assert.ok(rows.every((r) => r.action.startsWith('finding.')), 'only the filtered actions');
      const all = csvRows((await viewer.get('/admin/audit/export.csv')).text);
      assert.ok(all.some((r) => r.action === 'report.list_exported' && r.entity_id === 'audit_log'), 'the export records itself');
      const ids = all.map((r) => Number(r.id));
      assert.equal(new Set(ids).size, ids.length, 'no entry twice across batches');
    });
  });
});
