import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { EvidenceFile } from '../server/questionnaires/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { csrfFrom } from './helpers/http';
import { PDF } from './helpers/portal';
import { linkFormToken, seedWorld, testTemplatesDir, type World } from './helpers/world';

// Any temporary file the upload handling might write lands here, where the test can see it.
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-uploads-'));
process.env.TMPDIR = TMP;

const LIMIT = 1024 * 1024;
const EXE = Buffer.concat([Buffer.from('MZ\x90\x00', 'latin1'), Buffer.alloc(64, 0), Buffer.from('This program cannot be run in DOS mode', 'latin1')]);
const HTML = Buffer.from('<!doctype html><html><body><script>window.__xss=1</script></body></html>');
const POLYGLOT = Buffer.concat([PDF, Buffer.from('<html><body><script>window.__xss=1</script></body></html>')]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=1"><script>window.__xss=1</script></svg>');

/** Every file under a folder, recursively (the SQLite files, which change on any write, left out). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((n) => !/\.(sqlite|db)(-wal|-shm|-journal)?$/.test(n) && fs.statSync(path.join(dir, n)).isFile()).sort();
}

interface UploadRoute {
  name: string;
  url: (w: World) => string;
  field: string;
  /** Other fields of a valid submission. */
  fields: (w: World) => Record<string, string>;
  /** The size limit for this route. */
  limit: number;
  /** A valid file for this route. */
  good: Buffer;
  goodName: string;
  auth: 'session' | 'bearer' | 'link';
  /** Where the vendor's typed text comes back after a refusal, if the form has any. */
  keeps?: RegExp;
  /** A file over the limit is dropped and the form comes back with what was typed. */
  keepsOnOversize?: boolean;
}

const ROUTES: UploadRoute[] = [
  { name: 'questionnaire evidence (vendor link)', url: (w) => `/q/${w.qToken}/s/program`, field: 'file__wisp_doc', fields: () => ({ present__wisp: '1', a__wisp: 'yes', present__trained: '1', a__trained: '77', action: 'save' }), limit: LIMIT, good: PDF, goodName: 'wisp.pdf', auth: 'link', keeps: /value="77"/, keepsOnOversize: true },
  { name: 'signed certification (vendor link)', url: (w) => `/c/${w.cToken}/upload`, field: 'file', fields: () => ({ signerName: 'Kept Signer', signerTitle: 'CISO', signerCompany: 'Acme' }), limit: LIMIT, good: PDF, goodName: 'signed.pdf', auth: 'link', keeps: /value="Kept Signer"/, keepsOnOversize: true },
  { name: 'contract document', url: (w) => `/contracts/${w.contractId}/document`, field: 'document', fields: () => ({}), limit: LIMIT, good: PDF, goodName: 'msa.pdf', auth: 'session' },
  { name: 'new contract with its document', url: (w) => `/vendors/${w.vendorId}/contracts/new`, field: 'document', fields: () => ({ title: 'Kept contract title', type: 'msa', status: 'active', effectiveOn: '2026-01-01' }), limit: LIMIT, good: PDF, goodName: 'msa.pdf', auth: 'session', keeps: /value="Kept contract title"/ },
  { name: 'amendment attachment', url: (w) => `/contracts/amendments/${w.amendmentId}/files`, field: 'file', fields: () => ({}), limit: LIMIT, good: PDF, goodName: 'redline.pdf', auth: 'session' },
  { name: 'vendor import CSV', url: () => '/vendors/import', field: 'file', fields: () => ({}), limit: 10 * 1024 * 1024, good: Buffer.from('legal_name,status\nUpload Co,prospect\n'), goodName: 'vendors.csv', auth: 'session' },
  { name: 'contract document (API)', url: (w) => `/api/v1/contracts/${w.contractId}/document`, field: 'document', fields: () => ({}), limit: LIMIT, good: PDF, goodName: 'msa.pdf', auth: 'bearer' },
];

describe('uploads', () => {
  let t: TestApp;
  let w: World;
  before(async () => {
    t = await createTestApp({ templatesDir: testTemplatesDir(), env: { EVIDENCE_MAX_FILE_MB: '1' } });
    w = await seedWorld(t);
    // Deliver the seeding's mail now, so no mail file appears on disk during the checks.
    await t.ctx.mail.deliverDue();
  });
  after(async () => {
    await t.close();
    fs.rmSync(TMP, { recursive: true, force: true });
  });

  const post = async (route: UploadRoute, build: (req: request.Test) => request.Test) => {
    let url = route.url(w);
    let req: request.Test;
    if (route.auth === 'link') {
      url += `?_csrf=${encodeURIComponent(await linkFormToken(t, url.startsWith('/q/') ? url : url.replace(/\/upload$/, '')))}`;
      req = request(t.app).post(url);
    } else if (route.auth === 'bearer') {
      req = request(t.app).post(url).set('Authorization', `Bearer ${w.bearer}`);
    } else {
      url += `?_csrf=${encodeURIComponent(csrfFrom((await w.admin.get('/account/tokens')).text))}`;
      req = w.admin.post(url);
    }
    req = req.set('Accept', route.auth === 'bearer' ? 'application/json' : 'text/html');
    for (const [k, v] of Object.entries(route.fields(w))) req = req.field(k, v);
    return build(req);
  };

  const refusals: { label: string; file?: { name: string; content: Buffer; type?: string }; build?: (req: request.Test, route: UploadRoute) => request.Test; status: number[]; reason: RegExp; keepsTyped?: boolean }[] = [
    { label: 'an executable renamed .pdf, sent as application/pdf', file: { name: 'report.pdf', content: EXE, type: 'application/pdf' }, status: [400], reason: /not accepted|is not a PDF|not a CSV|could not be read|must be|not valid UTF-8|not text|nothing was imported/i, keepsTyped: true },
    { label: 'an empty file', file: { name: 'empty.pdf', content: Buffer.alloc(0) }, status: [400], reason: /empty|nothing was imported/i, keepsTyped: true },
    { label: 'a file one byte over the limit', build: (req, route) => req.attach(route.field, Buffer.concat([route.good, Buffer.alloc(route.limit + 1 - route.good.length, 0x20)]), route.goodName), status: [413], reason: /too large|larger than 1 MB/i, keepsTyped: true },
    { label: '3,000 fields', build: (req) => { for (let i = 0; i < 3000; i += 1) req = req.field(`f${i}`, 'x'); return req; }, status: [400, 413], reason: /refused|too many/i },
    { label: '1,000 files', build: (req, route) => { for (let i = 0; i < 1000; i += 1) req = req.attach(route.field, route.good, `f${i}.pdf`); return req; }, status: [400, 413], reason: /refused|too many/i },
  ];

  for (const route of ROUTES) {
    test(`When ${route.name} gets spoofed, empty, oversized or many-part uploads, then each is refused with its reason and nothing is left on disk`, async () => {
      for (const r of refusals) {
        const disk = [...filesUnder(t.config.dataDir), ...filesUnder(TMP)];
        const res = await post(route, (req) => (r.build ? r.build(req, route) : req.attach(route.field, r.file!.content, { filename: r.file!.name, contentType: r.file!.type ?? 'application/pdf' })));
        assert.ok(r.status.includes(res.status), `${route.name}, ${r.label}: ${res.status} ${res.text.slice(0, 300)}`);
        const body = res.headers['content-type']?.includes('json') ? JSON.stringify(res.body) : res.text;
        assert.match(body, r.reason, `${route.name}, ${r.label}: the reason is given`);
        assert.deepEqual([...filesUnder(t.config.dataDir), ...filesUnder(TMP)], disk, `${route.name}, ${r.label}: nothing new on disk`);
        // Elsewhere a file over the limit stops the parsing of the form; what was typed after it cannot come back.
        if (route.keeps && r.keepsTyped && (route.keepsOnOversize || !r.label.includes('over the limit'))) assert.match(res.text, route.keeps, `${route.name}, ${r.label}: what was typed comes back`);
      }
    });
  }

  test('When evidence has a hostile name (traversal, NUL, RTL, 10,000 characters), then it is stored under a clean name and downloads as an attachment that is never sniffed', async () => {
    const names = ['../../etc/passwd', '..\\..\\x.pdf', 'a\u0000b.pdf', 'evil/\u202Efdp.exe', `${'\u05D0'.repeat(10_000)}.pdf`];
    for (const name of names) {
      const res = await post(ROUTES[0]!, (req) => req.attach('file__wisp_doc', PDF, name));
      assert.ok(res.status === 303 || res.status === 400, `${JSON.stringify(name.slice(0, 30))}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    const files = await t.ctx.ds.getRepository(EvidenceFile).find({ where: { questionnaireId: w.openQuestionnaireId } });
    assert.ok(files.length >= 1, 'the files with hostile names are kept under clean names');
    for (const f of files) {
      assert.doesNotMatch(f.fileName, /[/\\\u0000\u202E]|^\.\./, `stored name ${f.fileName}`);
      assert.ok(f.fileName.length <= 120, 'the name is shortened');
      const dl = await w.admin.get(`/questionnaires/${w.openQuestionnaireId}/files/${f.id}`);
      assert.equal(dl.status, 200);
      assert.match(String(dl.headers['content-disposition']), /^attachment; filename="[\x20-\x21\x23-\x7e]*"/);
      assert.equal(dl.headers['x-content-type-options'], 'nosniff');
    }
  });

  test('When HTML, SVG or a PDF/HTML polyglot is uploaded as evidence, then it is refused or served only as an attachment of a harmless type', async () => {
    for (const [name, content] of [['page.pdf', HTML], ['image.svg', SVG], ['poly.pdf', POLYGLOT], ['page.html', HTML]] as const) {
      const res = await post(ROUTES[0]!, (req) => req.attach('file__wisp_doc', content, name));
      if (res.status === 400) {
        assert.match(res.text, /not accepted/);
        continue;
      }
      assert.equal(res.status, 303, `${name}: ${res.status}`);
      const f = (await t.ctx.ds.getRepository(EvidenceFile).find({ where: { questionnaireId: w.openQuestionnaireId }, order: { id: 'DESC' }, take: 1 }))[0]!;
      const dl = await w.admin.get(`/questionnaires/${w.openQuestionnaireId}/files/${f.id}`);
      assert.match(String(dl.headers['content-type']), /^(application\/pdf|text\/plain)/, `${name} is not served as HTML or SVG`);
      assert.match(String(dl.headers['content-disposition']), /^attachment;/);
      assert.equal(dl.headers['x-content-type-options'], 'nosniff');
    }
  });
});
