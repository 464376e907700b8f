import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { AuditEntry } from '../server/audit/entities';
import { systemActor } from '../server/audit/service';
import { addDays, localDate } from '../server/dates';
import { Finding } from '../server/findings/entities';
import { OutboxMessage } from '../server/mail/entities';
import { Questionnaire, QuestionnaireAnswer } from '../server/questionnaires/entities';
import { Reminder } from '../server/reminders/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { makeVendor } from './helpers/http';
import { TEST_TEMPLATE } from './helpers/portal';
import { type SmtpListener, startSmtp } from './helpers/smtp';

const ITERATIONS = 20;
/** New questionnaires per iteration: each is answered and submitted, and each gives the sweep work. */
const PER_ITERATION = 4;
/** The server is killed at a random moment within this long after it answers. */
const MAX_KILL_DELAY_MS = 1500;
const DIST = path.join(__dirname, '..');

/** mulberry32: a small seeded PRNG, so a failing run can be repeated with CRASH_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Polls until check() returns a value, or fails after the deadline (child processes take real time). */
async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, deadlineMs = 20_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Started {
  child: ChildProcess;
  base: string;
  output: () => string;
}

/** Starts `node dist/server/main.js` on a free port and waits until it listens. */
async function startServer(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [path.join(DIST, 'server', 'main.js')], { env: { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const port = await until('the server to listen', () => {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${out}`);
    return /listening on port (\d+)/.exec(out)?.[1];
  }, 60_000);
  return { child, base: `http://127.0.0.1:${port}`, output: () => out };
}

/** SIGKILL, and wait until the process is gone. */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await gone;
}

/** What a vendor had confirmed by the server before the kill. */
interface Confirmed {
  questionnaireId: number;
  answers: Record<string, unknown>;
  submitted: boolean;
}

const PROGRAM = (n: number) => ({ wisp: 'no', trained: String(n) });
const INCIDENTS = (n: number) => ({ incident: 'no', reports: n % 2 ? ['soc2'] : ['soc2', 'iso27001'], reviewed_on: `2026-01-${String((n % 28) + 1).padStart(2, '0')}` });

describe('crash safety: the server killed at random moments', () => {
  let t: TestApp;
  let smtp: SmtpListener;
  const sqlite = !process.env.DATABASE_URL;

  before(async () => {
    smtp = await startSmtp();
    const templates = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
    fs.writeFileSync(path.join(templates, 'test-dd.yaml'), TEST_TEMPLATE);
    t = await createTestApp({ smtp, templatesDir: templates });
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  /** New questionnaires sent four days ago and due in five: each sweep of today owes them a reminder and a nudge. */
  async function sendQuestionnaires(iteration: number): Promise<{ id: number; link: string }[]> {
    const now = new Date();
    t.clock.set(new Date(now.getTime() - 4 * 86_400_000).toISOString());
    const due = addDays(localDate(now, t.config.reminders.timeZone), 5);
    const out: { id: number; link: string }[] = [];
    for (let i = 0; i < PER_ITERATION; i += 1) {
      const v = await makeVendor(t, { legalName: `Crash Vendor ${iteration}-${i}` });
      const c = await t.ctx.vendors.addContact(systemActor('test'), v.id, { name: `Contact ${iteration}-${i}`, email: `c${iteration}-${i}@crash.example`, isSecurityContact: true });
      const { questionnaire, link } = await t.ctx.questionnaires.send(systemActor('test'), { vendorId: v.id, contactId: c.id, templateId: 'test-dd', dueDate: due });
      out.push({ id: questionnaire.id, link: new URL(link).pathname });
    }
    // The invitations go out from here, before the server starts, stamped with this clock.
    await t.ctx.mail.deliverDue();
    t.clock.set(now.toISOString());
    return out;
  }

  /** A vendor's session: save both sections, then submit; each success the server confirmed is recorded. */
  async function answer(base: string, q: { id: number; link: string }, n: number, confirmed: Confirmed): Promise<void> {
    const agent = request.agent(base);
    const save = async (sectionId: string, fields: Record<string, string | string[]>) => {
      const page = await agent.get(`${q.link}/s/${sectionId}`);
      const action = /<form method="post" action="([^"]+)" enctype="multipart\/form-data"/.exec(page.text)?.[1]?.replace(/&amp;/g, '&');
      assert.ok(action, `the ${sectionId} page of questionnaire ${q.id} has its form (got ${page.status})`);
      let req = agent.post(action);
      for (const m of page.text.matchAll(/name="present__([a-z0-9_-]+)"/g)) req = req.field(`present__${m[1]}`, '1');
      for (const [k, v] of Object.entries(fields)) for (const one of ([] as string[]).concat(v)) req = req.field(`a__${k}`, one);
      const res = await req.field('action', 'save');
      assert.equal(res.status, 303, `save of ${sectionId} on questionnaire ${q.id}`);
      Object.assign(confirmed.answers, fields);
    };
    await save('program', PROGRAM(n));
    await save('incidents', INCIDENTS(n));
    const review = await agent.get(`${q.link}/review`);
    const token = /name="_csrf" value="([^"]+)"/.exec(review.text)?.[1];
    assert.ok(token, `the review page of questionnaire ${q.id} (got ${review.status})`);
    const res = await agent.post(`${q.link}/submit`).type('form').send({ _csrf: token });
    assert.equal(res.status, 303, `submission of questionnaire ${q.id}`);
    confirmed.submitted = true;
  }

  /** Whether an error is what a client sees when the server dies under it. */
  const killedUnder = (err: unknown) => /ECONNRESET|ECONNREFUSED|socket hang up|EPIPE|other side closed/i.test(String((err as Error)?.message ?? err));

  /** Consistency after a crash: the database, the answers confirmed, the submissions, and reminders with their mail. */
  async function check(iteration: number, confirmed: Confirmed[]): Promise<void> {
    const ds = t.ctx.ds;
    if (sqlite) {
      assert.deepEqual(await ds.query('PRAGMA integrity_check'), [{ integrity_check: 'ok' }], `iteration ${iteration}: integrity_check`);
      assert.deepEqual(await ds.query('PRAGMA foreign_key_check'), [], `iteration ${iteration}: foreign_key_check`);
    } else {
      // PostgreSQL enforces foreign keys itself; what it cannot know is checked below. Indexes must be valid.
      assert.deepEqual(await ds.query('SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid'), [], `iteration ${iteration}: every index valid`);
    }
    const answers = await ds.getRepository(QuestionnaireAnswer).find();
    for (const c of confirmed) {
      const stored = Object.fromEntries(answers.filter((a) => a.questionnaireId === c.questionnaireId).map((a) => [a.questionId, a.value]));
      for (const [k, v] of Object.entries(c.answers)) {
        assert.deepEqual(stored[k], k === 'trained' ? Number(v) : v, `iteration ${iteration}: questionnaire ${c.questionnaireId} keeps its confirmed answer ${k}`);
      }
      if (c.submitted) assert.equal((await ds.getRepository(Questionnaire).findOneByOrFail({ id: c.questionnaireId })).status, 'submitted', `iteration ${iteration}: questionnaire ${c.questionnaireId} stays submitted`);
    }
    // A submission is whole or absent: answers, score, its finding, its audit entries and its mail.
    const submitted = await ds.getRepository(Questionnaire).find({ where: { status: 'submitted' } });
    const findings = await ds.getRepository(Finding).find();
    const audit = await ds.getRepository(AuditEntry).find({ where: { entityType: 'questionnaire' }, select: ['action', 'entityId'] });
    const outbox = await ds.getRepository(OutboxMessage).find();
    for (const q of submitted) {
      const mine = answers.filter((a) => a.questionnaireId === q.id).map((a) => a.questionId).sort();
      assert.deepEqual(mine, ['incident', 'reports', 'reviewed_on', 'trained', 'wisp'], `submitted questionnaire ${q.id} has all its answers`);
      assert.notEqual(q.score, null, `submitted questionnaire ${q.id} is scored`);
      assert.ok(findings.some((f) => f.questionnaireId === q.id && f.severity === 'critical'), `submitted questionnaire ${q.id} has its finding`);
      for (const action of ['questionnaire.submitted', 'questionnaire.scored']) assert.equal(audit.filter((a) => a.action === action && a.entityId === String(q.id)).length, 1, `${action} once for ${q.id}`);
      assert.equal(outbox.filter((m) => m.kind === 'questionnaire-submitted' && m.toAddress === q.recipientEmail).length, 1, `one receipt queued for ${q.id}`);
    }
    const notSubmitted = await ds.getRepository(Questionnaire).find({ where: { status: 'in_progress' } });
    for (const q of notSubmitted) assert.equal(outbox.filter((m) => m.kind === 'questionnaire-submitted' && m.toAddress === q.recipientEmail).length, 0, `no receipt for unsubmitted ${q.id}`);
    // Reminders: the row and its message exist together, or neither.
    const reminders = await ds.getRepository(Reminder).find();
    const byKey = new Map(outbox.filter((m) => m.dedupeKey?.startsWith('reminder:')).map((m) => [m.dedupeKey!, m]));
    for (const r of reminders.filter((x) => x.delivery === 'email')) {
      const msg = byKey.get(`reminder:${r.key}`);
      assert.ok(msg, `iteration ${iteration}: reminder ${r.key} has its message`);
      assert.equal(r.outboxId, msg.id, `iteration ${iteration}: reminder ${r.key} points at its message`);
    }
    const keys = new Set(reminders.map((r) => r.key));
    for (const key of byKey.keys()) assert.ok(keys.has(key.slice('reminder:'.length)), `iteration ${iteration}: message ${key} has its reminder row`);
  }

  test('When the server and a sweep are killed 20 times during saves, submissions and sweeps, then the database stays consistent, no confirmed answer is lost and no mail goes twice', async (ctx) => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
    ctx.diagnostic(`CRASH_SEED=${seed}`);
    const random = prng(seed);
    const confirmed: Confirmed[] = [];
    const env = { ...t.env, SMTP_URL: smtp.url };
    let answered = 0;
    let sweepsRun = 0;
    for (let iteration = 0; iteration < ITERATIONS; iteration += 1) {
      const started = Date.now();
      const fresh = await sendQuestionnaires(iteration);
      const server = await startServer(env);
      const mine = fresh.map((q) => ({ questionnaireId: q.id, answers: {}, submitted: false }));
      confirmed.push(...mine);
      const work: Promise<unknown>[] = fresh.map((q, i) =>
        answer(server.base, q, iteration * 10 + i, mine[i]!).catch((err: unknown) => {
          if (!killedUnder(err)) throw err;
        }),
      );
      // A sweep from the command line, started at a random moment, killed with the server.
      let cli: ChildProcess | null = null;
      const cliDelay = random() * MAX_KILL_DELAY_MS;
      const cliTimer = setTimeout(() => {
        cli = spawn(process.execPath, [path.join(DIST, 'server', 'cli.js'), 'reminders'], { env: { ...process.env, ...env, LOG_LEVEL: 'silent' }, stdio: 'ignore' });
        sweepsRun += 1;
      }, cliDelay);
      const killDelay = random() * MAX_KILL_DELAY_MS;
      // The last iteration lets every vendor session finish before the kill, so that submissions are
      // always among what survives a crash (on a slow machine, the random kills can all come first).
      if (iteration === ITERATIONS - 1) await Promise.allSettled(work);
      else await new Promise((r) => setTimeout(r, killDelay));
      clearTimeout(cliTimer);
      await kill(server.child);
      if (cli) await kill(cli);
      const results = await Promise.allSettled(work);
      const failed = results.filter((r) => r.status === 'rejected');
      assert.deepEqual(failed.map((r) => String((r as PromiseRejectedResult).reason)), [], `iteration ${iteration}: the only failures are those of the kill\n${server.output().slice(-3000)}`);
      answered += mine.filter((c) => c.submitted).length;
      await check(iteration, confirmed);
      ctx.diagnostic(`iteration ${iteration}: ${Date.now() - started} ms`);
    }

    // A last clean start: its catch-up sweep finishes what killed sweeps left (a lease held by a
    // killed process does not stop it), and what was queued goes out.
    const server = await startServer(env);
    try {
      const owed = await t.ctx.ds.getRepository(Questionnaire).find({ where: [{ status: 'sent' }, { status: 'in_progress' }] });
      await until('the catch-up sweep to remind every questionnaire still owed', async () => {
        const keys = new Set((await t.ctx.ds.getRepository(Reminder).find({ select: ['id', 'key'] })).map((r) => r.key));
        return owed.every((q) => keys.has(`questionnaire-due-7d:${q.id}:${q.dueDate}`)) ? true : undefined;
      });
      try {
        await until('the outbox to drain', async () => ((await t.ctx.ds.getRepository(OutboxMessage).count({ where: { status: 'pending' } })) === 0 ? true : undefined), 60_000);
      } catch (err) {
        // What is still pending, and what the server said, tell a slow outbox from a stuck one.
        const pending = await t.ctx.ds.getRepository(OutboxMessage).find({ where: { status: 'pending' }, select: ['id', 'kind', 'attempts', 'nextAttemptAt', 'lastError'] });
        throw new Error(`${(err as Error).message}; still pending at ${new Date().toISOString()}: ${JSON.stringify(pending)}\n${server.output().slice(-4000)}`);
      }
    } finally {
      // Stopped whatever happened above, so that a failure does not leave the server running.
      server.child.kill('SIGTERM');
      await until('the server to stop', () => (server.child.exitCode !== null ? true : undefined));
    }
    await check(ITERATIONS, confirmed);
    ctx.diagnostic(`submitted before a kill: ${answered} of ${confirmed.length}; command-line sweeps started: ${sweepsRun}; mails received: ${smtp.messages.length}`);

    // No message twice, by its id or by what it says to whom.
    const ids = smtp.messages.map((m) => m.headers['message-id']);
    const sameId = smtp.messages.filter((m, i) => ids.indexOf(m.headers['message-id']) !== i).map((m) => `${m.headers['message-id']} to ${m.to.join(',')}: ${m.subject}`);
    assert.deepEqual(sameId, [], 'no Message-ID twice');
    const said = smtp.messages.map((m) => `${m.to.join(',')} | ${m.subject}`);
    const twice = said.filter((s, i) => said.indexOf(s) !== i);
    assert.deepEqual(twice, [], 'no recipient got the same subject twice');
    assert.ok(smtp.messages.some((m) => m.subject.startsWith('Reminder:')), 'sweeps ran and their reminders arrived');
    assert.ok(answered > 0, 'some submissions completed before a kill');
  });
});
