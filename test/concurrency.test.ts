import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import request from 'supertest';
import { AuditEntry } from '../server/audit/entities';
import { systemActor } from '../server/audit/service';
import { Contract } from '../server/contracts/entities';
import { AppSetting } from '../server/db/settings.entity';
import { Finding } from '../server/findings/entities';
import { Questionnaire, QuestionnaireAnswer } from '../server/questionnaires/entities';
import { VendorContact } from '../server/vendors/entities';
import { deriveKey } from '../server/config';
import { outsideTransaction } from '../server/db/data-source';
import { enqueueMail } from '../server/mail/outbox';
import { createTestApp, type TestApp } from './helpers/app';
import { startSmtp } from './helpers/smtp';
import { csrfFrom, GOOD_PASSWORD, makeUser, makeVendor } from './helpers/http';
import { TEST_TEMPLATE } from './helpers/portal';

const VENDORS = 100;
const PROCUREMENT = 7;
const REVIEWERS = 7;
const LEGAL = 6;
/** Each procurement user adds this many contacts, each reviewer records this many findings, each legal user edits their contract this many times. */
const EDITS_EACH = 3;

type Agent = ReturnType<typeof request.agent>;

/** One response as the test saw it, to report every unexpected status at once. */
interface Seen {
  what: string;
  status: number;
  expected: number;
  body: string;
}

/** A pino logger that keeps every line it writes (warnings and worse), as parsed objects. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), lines };
}

describe('concurrency: vendors answering while staff edit', () => {
  let t: TestApp;
  let server: Server;
  let base: string;
  const log = capturingLogger();
  const links: { vendorId: number; questionnaireId: number; path: string }[] = [];
  const staff: { role: 'procurement' | 'reviewer' | 'legal'; email: string; userId: number; contractId?: number }[] = [];

  before(async () => {
    const templates = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
    fs.writeFileSync(path.join(templates, 'test-dd.yaml'), TEST_TEMPLATE);
    // Behind a proxy, as in production: each vendor and colleague comes from its own address.
    t = await createTestApp({ templatesDir: templates, logger: log.logger, env: { TRUST_PROXY: 'loopback' } });
    for (let i = 0; i < VENDORS; i += 1) {
      const v = await makeVendor(t, { status: 'active' });
      const c = await t.ctx.vendors.addContact(systemActor('test'), v.id, { name: `Contact ${i}`, email: `contact${i}@vendor${i}.example`, isSecurityContact: true });
      const { questionnaire, link } = await t.ctx.questionnaires.send(systemActor('test'), { vendorId: v.id, contactId: c.id, templateId: 'test-dd', dueDate: '2026-04-01' });
      links.push({ vendorId: v.id, questionnaireId: questionnaire.id, path: new URL(link).pathname });
    }
    const roles = [...Array<'procurement'>(PROCUREMENT).fill('procurement'), ...Array<'reviewer'>(REVIEWERS).fill('reviewer'), ...Array<'legal'>(LEGAL).fill('legal')];
    for (const role of roles) {
      const u = await makeUser(t, role);
      const contract = role === 'legal' ? await t.ctx.contracts.create(systemActor('test'), links[staff.length]!.vendorId, { title: 'Master Services Agreement', type: 'msa', status: 'active', effectiveOn: '2024-01-01', expiresOn: null, signedOn: null, autoRenews: false, noticeDays: null, amendsId: null, notes: null }) : undefined;
      staff.push({ role, email: u.email, userId: u.user.id, contractId: contract?.id });
    }
    await t.ctx.mail.deliverDue();
    server = t.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.close();
  });

  test('When 100 vendors save and submit at once while 20 staff users edit, then nothing fails, every answer and edit is stored, and each is audited', async () => {
    const seen: Seen[] = [];
    const expect = async (what: string, expected: number, res: Promise<request.Response> | request.Test): Promise<request.Response> => {
      const r = await res;
      seen.push({ what, status: r.status, expected, body: r.status === expected ? '' : r.text.slice(0, 400) });
      return r;
    };

    /** A section posted as the browser does, with the form's own action (it carries the form token). */
    const saveSection = async (agent: Agent, link: string, sectionId: string, fields: Record<string, string | string[]>, what: string) => {
      const page = await expect(`${what}: open`, 200, agent.get(`${link}/s/${sectionId}`));
      const action = /<form method="post" action="([^"]+)" enctype="multipart\/form-data"/.exec(page.text)?.[1]?.replace(/&amp;/g, '&');
      if (!action) return;
      let req = agent.post(action);
      for (const m of page.text.matchAll(/name="present__([a-z0-9_-]+)"/g)) req = req.field(`present__${m[1]}`, '1');
      for (const [k, v] of Object.entries(fields)) for (const one of ([] as string[]).concat(v)) req = req.field(`a__${k}`, one);
      await expect(`${what}: save`, 303, req.field('action', 'save'));
    };

    const vendor = async (i: number) => {
      const agent = request.agent(base).set('X-Forwarded-For', `198.51.100.${i + 1}`);
      const { path: link } = links[i]!;
      await expect(`vendor ${i}: welcome`, 200, agent.get(link));
      await saveSection(agent, link, 'program', { wisp: 'no', trained: String(i) }, `vendor ${i} program`);
      await saveSection(agent, link, 'incidents', { incident: 'no', reports: ['soc2', 'iso27001'], reviewed_on: `2026-01-${String((i % 28) + 1).padStart(2, '0')}` }, `vendor ${i} incidents`);
      await saveSection(agent, link, 'program', { wisp: 'no', trained: String(i + 0.5) }, `vendor ${i} program again`);
      const review = await expect(`vendor ${i}: review`, 200, agent.get(`${link}/review`));
      const token = /name="_csrf" value="([^"]+)"/.exec(review.text)?.[1] ?? '';
      // Every tenth vendor clicks twice: both clicks land on the thank-you page, and it counts once.
      const clicks = i % 10 === 0 ? 2 : 1;
      await Promise.all(Array.from({ length: clicks }, (_, c) => expect(`vendor ${i}: submit ${c}`, 303, agent.post(`${link}/submit`).type('form').send({ _csrf: token }))));
    };

    const staffWork = async (k: number) => {
      const s = staff[k]!;
      const agent = request.agent(base).set('X-Forwarded-For', `203.0.113.${k + 1}`);
      const login = await expect(`${s.email}: login page`, 200, agent.get('/login'));
      await expect(`${s.email}: sign in`, 303, agent.post('/login').type('form').send({ email: s.email, password: GOOD_PASSWORD, _csrf: csrfFrom(login.text) }));
      for (let j = 0; j < EDITS_EACH; j += 1) {
        const vendorId = links[(k * EDITS_EACH + j) % VENDORS]!.vendorId;
        if (s.role === 'procurement') {
          const page = await expect(`${s.email}: vendor page`, 200, agent.get(`/vendors/${vendorId}`));
          await expect(`${s.email}: add contact ${j}`, 303, agent.post(`/vendors/${vendorId}/contacts`).type('form').send({ _csrf: csrfFrom(page.text), name: `Staff contact ${k}-${j}`, email: `staff${k}-${j}@vendor.example` }));
        } else if (s.role === 'reviewer') {
          const page = await expect(`${s.email}: finding form`, 200, agent.get(`/vendors/${vendorId}/findings/new`));
          await expect(
            `${s.email}: record finding ${j}`,
            303,
            agent.post(`/vendors/${vendorId}/findings/new`).type('form').send({ _csrf: csrfFrom(page.text), title: `Manual finding ${k}-${j}`, severity: 'medium', citation: '201 CMR 17.04(5)', description: 'Seen during the review.', remediatedBy: 'vendor', remediationPlan: '', dueDate: '' }),
          );
        } else {
          const page = await expect(`${s.email}: contract page`, 200, agent.get(`/contracts/${s.contractId}`));
          await expect(
            `${s.email}: edit contract ${j}`,
            303,
            agent.post(`/contracts/${s.contractId}`).type('form').send({ _csrf: csrfFrom(page.text), title: 'Master Services Agreement', type: 'msa', status: 'active', effectiveOn: '2024-01-01', expiresOn: '', signedOn: '', noticeDays: '', amendsId: '', notes: `Edit ${k}-${j}` }),
          );
        }
      }
    };

    await Promise.all([...links.map((_, i) => vendor(i)), ...staff.map((_, k) => staffWork(k))]);

    const wrong = seen.filter((s) => s.status !== s.expected);
    assert.deepEqual(wrong, [], 'every request got the answer a lone request gets');
    assert.ok(seen.every((s) => s.status < 500));
    const problems = log.lines.filter((l) => Number(l.level) >= 50 || /SQLITE_BUSY|database is locked/i.test(JSON.stringify(l)));
    assert.deepEqual(problems, [], 'no error was logged, and the database was never reported busy');

    // Every answer is stored with its last value, and every submission with its score and findings.
    const answers = await t.ctx.ds.getRepository(QuestionnaireAnswer).find();
    const questionnaires = new Map((await t.ctx.ds.getRepository(Questionnaire).find()).map((q) => [q.id, q]));
    const findings = await t.ctx.ds.getRepository(Finding).find();
    const audit = await t.ctx.ds.getRepository(AuditEntry).find({ select: ['action', 'entityType', 'entityId', 'actorLabel', 'details'] });
    const audited = (action: string, entityId: number | string) => audit.filter((a) => a.action === action && a.entityId === String(entityId)).length;
    for (const [i, l] of links.entries()) {
      const mine = Object.fromEntries(answers.filter((a) => a.questionnaireId === l.questionnaireId).map((a) => [a.questionId, a.value]));
      assert.deepEqual(mine, { wisp: 'no', trained: i + 0.5, incident: 'no', reports: ['soc2', 'iso27001'], reviewed_on: `2026-01-${String((i % 28) + 1).padStart(2, '0')}` }, `answers of vendor ${i}`);
      const q = questionnaires.get(l.questionnaireId)!;
      assert.equal(q.status, 'submitted', `vendor ${i} submitted`);
      assert.notEqual(q.score, null, `vendor ${i} scored`);
      assert.ok(findings.some((f) => f.questionnaireId === l.questionnaireId && f.severity === 'critical'), `vendor ${i}: the "no written program" finding`);
      assert.equal(audited('questionnaire.answers_saved', l.questionnaireId), 3, `vendor ${i}: three saves audited`);
      assert.equal(audited('questionnaire.submitted', l.questionnaireId), 1, `vendor ${i}: one submission audited`);
      assert.equal(audited('questionnaire.scored', l.questionnaireId), 1, `vendor ${i}: scored once`);
      assert.equal(findings.filter((f) => f.questionnaireId === l.questionnaireId).length, 1, `vendor ${i}: one finding, however many clicks`);
    }

    // Every staff edit is stored and audited under its author.
    const contacts = await t.ctx.ds.getRepository(VendorContact).find();
    const contracts = new Map((await t.ctx.ds.getRepository(Contract).find()).map((c) => [c.id, c]));
    for (const [k, s] of staff.entries()) {
      const byMe = (action: string) => audit.filter((a) => a.action === action && a.actorLabel === s.email).length;
      if (s.role === 'procurement') {
        for (let j = 0; j < EDITS_EACH; j += 1) assert.ok(contacts.some((c) => c.name === `Staff contact ${k}-${j}` && c.vendorId === links[(k * EDITS_EACH + j) % VENDORS]!.vendorId), `contact ${k}-${j} stored`);
        assert.equal(byMe('vendor.contact_added'), EDITS_EACH, `${s.email}: contacts audited`);
      } else if (s.role === 'reviewer') {
        for (let j = 0; j < EDITS_EACH; j += 1) assert.ok(findings.some((f) => f.title === `Manual finding ${k}-${j}`), `finding ${k}-${j} stored`);
        assert.equal(byMe('finding.created'), EDITS_EACH, `${s.email}: findings audited`);
      } else {
        assert.equal(contracts.get(s.contractId!)!.notes, `Edit ${k}-${EDITS_EACH - 1}`, `${s.email}: the last edit is the contract's state`);
        assert.equal(byMe('contract.updated'), EDITS_EACH, `${s.email}: every edit audited`);
      }
    }
  });

  test('When a transaction fails while another request writes, then that write is kept and never saw the failed work', async () => {
    const repo = t.ctx.ds.getRepository(AppSetting);
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    const failing = t.ctx.transact(async (m) => {
      await m.insert(AppSetting, { key: 'concurrency.failing', value: '1', updatedAt: t.clock.now() });
      inside();
      await new Promise((r) => setImmediate(r));
      throw new Error('the work fails');
    });
    await started;
    // A write and a read from elsewhere while the transaction is open (a session saved, a page read).
    const [written, seenThen] = await Promise.all([
      repo.insert({ key: 'concurrency.other', value: '1', updatedAt: t.clock.now() }).then(() => true),
      repo.findOne({ where: { key: 'concurrency.failing' } }),
      assert.rejects(failing, /the work fails/),
    ]);
    assert.equal(written, true);
    assert.equal(seenThen, null, 'uncommitted work is not visible outside its transaction');
    assert.ok(await repo.findOne({ where: { key: 'concurrency.other' } }), 'the other write outlived the failed transaction');
    assert.equal(await repo.findOne({ where: { key: 'concurrency.failing' } }), null);
  });
});

describe('mail queued inside a transaction', () => {
  test('When a delivery run is started inside a transaction that then fails, then its message is never sent; a committed one is', async () => {
    const smtp = await startSmtp();
    const app = await createTestApp({ smtp });
    try {
      const key = deriveKey(app.config, 'mail-outbox');
      const queue = (subject: string) => enqueueMail(app.ctx.ds.manager, app.clock, key, { kind: 'test', to: 'someone@example.com', subject, text: subject });
      // As a service does: queue inside the transaction and ask for delivery before it ends.
      const kick = () => outsideTransaction(app.ctx.ds, () => app.ctx.mail.kick());
      await assert.rejects(
        app.ctx.transact(async (m) => {
          await enqueueMail(m, app.clock, key, { kind: 'test', to: 'someone@example.com', subject: 'rolled back', text: 'x' });
          kick();
          await new Promise((r) => setTimeout(r, 50));
          throw new Error('the change fails');
        }),
        /the change fails/,
      );
      await queue('committed');
      kick();
      await smtp.waitFor((m) => m.subject === 'committed', 10_000);
      await app.ctx.mail.deliverDue();
      assert.deepEqual(smtp.messages.map((m) => m.subject), ['committed']);
    } finally {
      await app.close();
      await smtp.close();
    }
  });
});
