import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { AuditEntry } from '../server/audit/entities';
import { Vendor, VendorContact, VendorImport } from '../server/vendors/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { type Agent, csrfFrom, makeVendor, signedIn } from './helpers/http';

const HEADER = 'legal_name,status,personal_information,ma_residents,record_volume,access,security_contact_name,security_contact_email,last_assessed_on';

async function upload(agent: Agent, csv: string | Buffer, name = 'vendors.csv') {
  const token = csrfFrom((await agent.get('/vendors/import')).text);
  return agent.post(`/vendors/import?_csrf=${encodeURIComponent(token)}`).attach('file', Buffer.isBuffer(csv) ? csv : Buffer.from(csv, 'utf8'), name);
}

async function commit(agent: Agent, html: string) {
  const m = /action="\/vendors\/import\/(\d+)\/commit"/.exec(html);
  assert.ok(m, 'the preview offers a commit');
  return agent.post(`/vendors/import/${m[1]}/commit`).type('form').send({ _csrf: csrfFrom(html) });
}

describe('CSV import and export', () => {
  let t: TestApp;
  let agent: Agent;
  before(async () => {
    t = await createTestApp();
    agent = (await signedIn(t, 'procurement')).agent;
  });
  after(() => t.close());

  test('When the headers are wrong, then each is reported and nothing is staged', async () => {
    const res = await upload(agent, 'name,colour\nAcme,blue\n');
    assert.equal(res.status, 400);
    assert.match(res.text, /<td>1<\/td><td><code>name<\/code><\/td><td>Unknown column/);
    assert.match(res.text, /<code>legal_name<\/code><\/td><td>Required column is missing/);
    assert.equal(await t.ctx.ds.getRepository(VendorImport).count(), 0);
  });

  test('When rows are bad, then each problem names its line, column and reason and nothing is imported', async () => {
    await makeVendor(t, { legalName: 'Existing Corp' });
    const csv = [
      HEADER,
      'Good One Inc,active,ssn,yes,1k_10k,stores,Ann,ann@good.example,2026-01-15',
      ',prospect,,,,,,,',
      'Bad Values LLC,paused,ssn;retina,maybe,lots,stores;juggles,Bob,not-an-email,15/01/2026',
      'good one inc,prospect,,,,,,,',
      'EXISTING CORP,prospect,,,,,,,',
      'Needs Volume Ltd,prospect,ssn,yes,none,stores,,,',
    ].join('\n');
    const before = await t.ctx.ds.getRepository(Vendor).count();
    const res = await upload(agent, csv);
    assert.equal(res.status, 400);
    const expected: [number, string, RegExp][] = [
      [3, 'legal_name', /Legal name is required/],
      [4, 'status', /Status must be one of/],
      [4, 'personal_information', /&#34;retina&#34; is not one of/],
      [4, 'ma_residents', /Massachusetts residents must be yes, no or unknown/],
      [4, 'record_volume', /Number of records must be one of/],
      [4, 'access', /&#34;juggles&#34; is not one of/],
      [4, 'security_contact_email', /Email must be a valid email address/],
      [4, 'last_assessed_on', /must be a date as YYYY-MM-DD/],
      [5, 'legal_name', /Duplicate of line 2 in this file/],
      [6, 'legal_name', /A vendor named &#34;Existing Corp&#34; already exists/],
      [7, 'record_volume', /Choose the approximate number of records/],
    ];
    for (const [line, column, reason] of expected) {
      const row = new RegExp(`<td>${line}</td><td><code>${column}</code></td><td>([^<]*)</td>`, 'g');
      const reasons = [...res.text.matchAll(row)].map((m) => m[1]).join(' | ');
      assert.match(reasons, reason, `line ${line} ${column}: ${reasons}`);
    }
    assert.equal(await t.ctx.ds.getRepository(Vendor).count(), before, 'nothing half-imported');
  });

  test('When a clean file with a BOM is confirmed, then all rows and contacts arrive at once, audited', async () => {
    const csv = '\uFEFF' + [HEADER, 'Bom First GmbH,active,ssn;financial_account,yes,100k_1m,stores;processes,Ute,ute@bom.example,2026-01-15', '"Quoted, Name Ltd",prospect,,no,,,,,'].join('\r\n');
    const preview = await upload(agent, csv);
    assert.equal(preview.status, 200);
    assert.match(preview.text, /<strong>2 vendors<\/strong> will be added/);
    assert.equal(await t.ctx.ds.getRepository(Vendor).countBy({ legalName: 'Bom First GmbH' }), 0, 'nothing before the confirmation');
    const done = await commit(agent, preview.text);
    assert.equal(done.status, 303);
    const v = await t.ctx.ds.getRepository(Vendor).findOneByOrFail({ legalName: 'Bom First GmbH' });
    assert.equal(v.tier, 'critical');
    assert.equal(v.nextReassessmentOn, '2026-07-15');
    assert.ok(await t.ctx.ds.getRepository(Vendor).findOneBy({ legalName: 'Quoted, Name Ltd' }));
    const contact = await t.ctx.ds.getRepository(VendorContact).findOneByOrFail({ vendorId: v.id });
    assert.equal(contact.isSecurityContact, true);
    assert.ok(await t.ctx.ds.getRepository(AuditEntry).findOneBy({ action: 'vendor.created', entityId: String(v.id) }));
    assert.ok(await t.ctx.ds.getRepository(AuditEntry).findOneBy({ action: 'vendor.import_committed' }));
    const again = await commit(agent, preview.text);
    assert.equal(again.status, 409, 'an import commits once');
  });

  test('When names are taken between preview and commit, then nothing is imported', async () => {
    const preview = await upload(agent, [HEADER, 'Race One,prospect,,,,,,,', 'Race Two,prospect,,,,,,,'].join('\n'));
    assert.equal(preview.status, 200);
    await makeVendor(t, { legalName: 'Race Two' });
    const res = await commit(agent, preview.text);
    assert.equal(res.status, 409);
    assert.match(res.text, /Nothing was imported/);
    assert.equal(await t.ctx.ds.getRepository(Vendor).countBy({ legalName: 'Race One' }), 0);
  });

  test('When the upload is not CSV text, too large, or missing, then it is refused cleanly', async () => {
    const binary = await upload(agent, Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3]), 'x.csv');
    assert.equal(binary.status, 400);
    assert.match(binary.text, /not UTF-8 text/);
    const big = await upload(agent, Buffer.alloc(11 * 1024 * 1024, 'a'));
    assert.equal(big.status, 413);
    const token = csrfFrom((await agent.get('/vendors/import')).text);
    const none = await agent.post(`/vendors/import?_csrf=${encodeURIComponent(token)}`).field('x', 'y');
    assert.equal(none.status, 400);
    assert.match(none.text, /Choose a CSV file/);
    const forged = await agent.post('/vendors/import').attach('file', Buffer.from(HEADER), 'v.csv');
    assert.equal(forged.status, 403, 'an upload without the form token is refused');
  });

  test('When 20,000 rows are imported, then all arrive and the filtered export reads back', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 20_000; i++) lines.push(`Bulk Vendor ${i},${i % 2 ? 'active' : 'prospect'},${i % 3 ? 'ssn' : ''},yes,${i % 3 ? '1k_10k' : ''},${i % 3 ? 'stores' : ''},,,`);
    const preview = await upload(agent, lines.join('\n'));
    assert.equal(preview.status, 200, preview.text.slice(0, 300));
    assert.match(preview.text, /20000 vendors<\/strong> will be added/);
    assert.equal((await commit(agent, preview.text)).status, 303);
    assert.equal(await t.ctx.ds.getRepository(Vendor).createQueryBuilder('v').where("v.legalName LIKE 'Bulk Vendor %'").getCount(), 20_000);

    const csv = await agent.get('/vendors/export.csv?status=active&q=bulk%20vendor%201999').buffer(true).parse((res, cb) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString('utf8')));
      res.on('end', () => cb(null, data));
    });
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    const rows = parse(csv.body as string, { bom: true, columns: true }) as Record<string, string>[];
    assert.deepEqual(rows.map((r) => r.legal_name).sort(), ['Bulk Vendor 1999', 'Bulk Vendor 19991', 'Bulk Vendor 19993', 'Bulk Vendor 19995', 'Bulk Vendor 19997', 'Bulk Vendor 19999']);
    assert.equal(rows[0]!.status, 'active');
    assert.ok('tier' in rows[0]! && 'next_reassessment_on' in rows[0]!);
  });

  test('When exported values look like formulas, then they are defused; an export re-imports elsewhere', async () => {
    await makeVendor(t, { legalName: '=HYPERLINK("http://evil.example")', notes: '+1 call me' });
    const res = await agent.get('/vendors/export.csv?q=hyperlink').buffer(true).parse((r, cb) => {
      let data = '';
      r.on('data', (c: Buffer) => (data += c.toString('utf8')));
      r.on('end', () => cb(null, data));
    });
    const rows = parse(res.body as string, { bom: true, columns: true }) as Record<string, string>[];
    assert.equal(rows[0]!.legal_name, `'=HYPERLINK("http://evil.example")`);
    assert.equal(rows[0]!.notes, `'+1 call me`);

    const other = await createTestApp();
    try {
      const otherAgent = (await signedIn(other, 'admin')).agent;
      const exported = await agent.get('/vendors/export.csv?q=bom%20first').buffer(true).parse((r, cb) => {
        let data = '';
        r.on('data', (c: Buffer) => (data += c.toString('utf8')));
        r.on('end', () => cb(null, data));
      });
      const preview = await upload(otherAgent, exported.body as string);
      assert.equal(preview.status, 200, preview.text.slice(preview.text.indexOf('<main'), preview.text.indexOf('<main') + 800));
      assert.equal((await commit(otherAgent, preview.text)).status, 303);
      const copy = await other.ctx.ds.getRepository(Vendor).findOneByOrFail({ legalName: 'Bom First GmbH' });
      assert.deepEqual(copy.piElements, ['ssn', 'financialAccount']);
    } finally {
      await other.close();
    }
  });
});
