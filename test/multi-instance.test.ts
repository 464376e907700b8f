import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { AuditEntry } from '../server/audit/entities';
import { systemActor } from '../server/audit/service';
import { addDays, localDate } from '../server/dates';
import { OutboxMessage } from '../server/mail/entities';
import { enqueueMail } from '../server/mail/outbox';
import { ROOT_DIR } from '../server/paths';
import { EvidenceFile } from '../server/questionnaires/entities';
import { encryptText } from '../server/security/crypto';
import { Reminder } from '../server/reminders/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { makeUser, makeVendor } from './helpers/http';
import { PDF, TEST_TEMPLATE } from './helpers/portal';
import { type SmtpListener, startSmtp } from './helpers/smtp';

const runFile = promisify(execFile);
const MAIN = path.join(ROOT_DIR, 'dist', 'server', 'main.js');
const CLI = path.join(ROOT_DIR, 'dist', 'server', 'cli.js');
/** No request to an instance may hang the test. */
const REQUEST_TIMEOUT_MS = 20_000;

/** One portal process (`node dist/server/main.js`) and the address it listens on. */
interface Instance {
  name: string;
  base: string;
  child: ChildProcess;
  output: string[];
}

/** Polls `check` until it returns a value other than undefined, or fails with `what` at the deadline. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts one portal process on a free port with the given environment and waits until it listens. */
async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env, PORT: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  let port: number | undefined;
  let exited: number | null | undefined;
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      output.push(line);
      const m = /Oversight is listening on port (\d+)/.exec(line);
      if (m) port = Number(m[1]);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  child.once('exit', (code) => {
    exited = code;
  });
  const instance = { name, base: '', child, output };
  try {
    await until(`instance ${name} to listen`, () => {
      if (exited !== undefined) throw new Error(`instance ${name} exited with ${exited}:\n${output.join('\n')}`);
      return port;
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  instance.base = `http://127.0.0.1:${port}`;
  return instance;
}

/** Stops a portal process: SIGTERM, then SIGKILL if it has not exited within a few seconds. */
async function stopInstance(i: Instance | undefined): Promise<void> {
  if (!i || i.child.exitCode !== null || i.child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => i.child.once('exit', () => resolve()));
  i.child.kill('SIGTERM');
  const timer = setTimeout(() => i.child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

/** The `name=value` pairs of the Set-Cookie headers of a response. */
function cookieOf(res: Response): string | null {
  const set = res.headers.getSetCookie();
  return set.length ? set.map((c) => c.split(';')[0]).join('; ') : null;
}

/** A GET with an optional cookie, redirects not followed. */
async function get(base: string, pathname: string, cookie?: string): Promise<{ status: number; text: string; res: Response }> {
  const res = await fetch(base + pathname, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), redirect: 'manual', headers: cookie ? { cookie } : {} });
  return { status: res.status, text: await res.text(), res };
}

/** Posts a form with the CSRF token taken from `page`, as a browser would. */
async function postForm(base: string, page: string, action: string, fields: Record<string, string>, cookie?: string): Promise<Response> {
  const form = await get(base, page, cookie);
  assert.equal(form.status, 200, `GET ${page} on ${base}: ${form.status}`);
  const token = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1];
  assert.ok(token, `${page} has a CSRF field`);
  const jar = cookie ?? cookieOf(form.res) ?? '';
  return fetch(base + action, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), method: 'POST', redirect: 'manual', headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, _csrf: token }).toString() });
}

/** Signs in through the login form of one instance; returns the session cookie. */
async function signInAt(base: string, email: string, password: string): Promise<string> {
  const page = await get(base, '/login');
  const first = cookieOf(page.res);
  assert.ok(first, 'the sign-in page sets a cookie for its CSRF token');
  const res = await postForm(base, '/login', '/login', { email, password }, first);
  assert.equal(res.status, 303, `sign-in on ${base} should redirect, got ${res.status}`);
  await res.arrayBuffer();
  return cookieOf(res) ?? first;
}

describe('several instances on one database', () => {
  let t: TestApp;
  let smtp: SmtpListener;
  let dataDir: string;
  let env: Record<string, string>;
  let a: Instance | undefined;
  let b: Instance | undefined;
  let admin: Awaited<ReturnType<typeof makeUser>>;
  let owner: Awaited<ReturnType<typeof makeUser>>;
  let reviewer: Awaited<ReturnType<typeof makeUser>>;
  let today: string;

  /** Active vendors without a security contact whose reassessment falls due within the lead time: one owner reminder each. */
  async function vendorsDueForReassessment(n: number, label: string): Promise<string[]> {
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const v = await makeVendor(t, { legalName: `${label} ${i} Payroll LLC`, status: 'active', businessOwnerId: owner.user.id, lastAssessedOn: addDays(today, -350) });
      assert.ok(v.nextReassessmentOn && v.nextReassessmentOn <= addDays(today, 30), 'the reassessment falls inside the lead window');
      names.push(v.legalName);
    }
    return names;
  }

  before(async () => {
    smtp = await startSmtp();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-multi-'));
    const templates = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
    fs.writeFileSync(path.join(templates, 'test-dd.yaml'), TEST_TEMPLATE);
    const secretKey = crypto.randomBytes(32).toString('hex');
    // The test's own context builds the database (migrations) and seeds it; it delivers no mail itself.
    t = await createTestApp({ dataDir, templatesDir: templates, env: { SECRET_KEY: secretKey } });
    t.clock.set(new Date());
    today = localDate(t.clock.now(), t.config.reminders.timeZone);
    admin = await makeUser(t, 'admin', { name: 'Ada Admin' });
    owner = await makeUser(t, 'procurement', { name: 'Olive Owner' });
    reviewer = await makeUser(t, 'reviewer', { name: 'Rita Reviewer' });
    env = {
      DATA_DIR: dataDir,
      SECRET_KEY: secretKey,
      SMTP_URL: smtp.url,
      BASE_URL: 'http://portal.test',
      ...(t.env.DATABASE_URL ? { DATABASE_URL: t.env.DATABASE_URL } : {}),
    };
  });

  after(async () => {
    await Promise.all([stopInstance(a), stopInstance(b)]);
    await t?.close();
    await smtp?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('When both instances start at once, then their catch-up sweeps send each due reminder once', async () => {
    const due = await vendorsDueForReassessment(6, 'Startup');
    // Both at once, as after a deploy; the first start also records the reassessment intervals.
    const started = await Promise.allSettled([startInstance('A', env), startInstance('B', env)]);
    [a, b] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    for (const s of started) if (s.status === 'rejected') throw s.reason;

    for (const name of due) await smtp.waitFor((m) => m.subject.endsWith(`: ${name}`), 20_000);
    const reminders = await t.ctx.ds.getRepository(Reminder).find();
    assert.equal(reminders.length, 6);
    assert.deepEqual(new Set(reminders.map((r) => r.rule)), new Set(['reassessment-owner']));
    for (const name of due) assert.equal(smtp.messages.filter((m) => m.subject.endsWith(`: ${name}`)).length, 1, `one mail about ${name}`);
  });

  test('When a user signs in on instance A, then the same cookie works on B, and signing out on B ends it on A', async () => {
    assert.ok(a && b);
    const cookie = await signInAt(a.base, admin.email, admin.password);
    const onA = await get(a.base, '/', cookie);
    assert.equal(onA.status, 200);
    assert.match(onA.text, /Ada Admin/);
    const onB = await get(b.base, '/admin/reminders', cookie);
    assert.equal(onB.status, 200, 'the session made on A is read on B');
    assert.match(onB.text, /Ada Admin/);

    const out = await postForm(b.base, '/', '/logout', {}, cookie);
    assert.equal(out.status, 303);
    assert.equal(out.headers.get('location'), '/login');
    const afterOut = await get(a.base, '/', cookie);
    assert.equal(afterOut.status, 303, 'the session ended on B is gone on A');
    assert.match(afterOut.res.headers.get('location') ?? '', /^\/login/);
  });

  test('When both instances and the CLI sweep at the same moment, then each reminder is written and mailed exactly once', async () => {
    assert.ok(a && b);
    const due = await vendorsDueForReassessment(12, 'Concurrent');
    const cookie = await signInAt(a.base, admin.email, admin.password);
    const tokenOf = async (base: string) => /name="_csrf" value="([^"]+)"/.exec((await get(base, '/admin/reminders', cookie)).text)![1]!;
    // One after the other: the token lives in the shared session, and B's page must show the one A stored.
    const tokenA = await tokenOf(a.base);
    const tokenB = await tokenOf(b.base);
    assert.equal(tokenB, tokenA, 'both instances read the same session');
    const runNow = (base: string, token: string) =>
      fetch(`${base}/admin/reminders/run`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: token }).toString() });
    const cli = runFile(process.execPath, [CLI, 'reminders'], { timeout: REQUEST_TIMEOUT_MS, env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'silent' } }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }),
    );
    const [resA, resB, fromCli] = await Promise.all([runNow(a.base, tokenA), runNow(b.base, tokenB), cli]);
    assert.equal(resA.status, 303);
    assert.equal(resB.status, 303);
    assert.ok(fromCli.code === 0 || /Another instance is running the reminder sweep/.test(fromCli.stdout), `the CLI either swept or stood aside: ${fromCli.code} ${fromCli.stdout}`);

    for (const name of due) await smtp.waitFor((m) => m.subject.endsWith(`: ${name}`), 20_000);
    const rows = await t.ctx.ds.getRepository(Reminder).find();
    assert.equal(rows.length, 18, 'six from the start-up sweeps and twelve now');
    assert.equal(new Set(rows.map((r) => r.key)).size, rows.length);
    const queued = await t.ctx.ds.getRepository(OutboxMessage).find({ where: { kind: 'reminder-reassessment-due' } });
    assert.equal(queued.length, 18, 'one email queued per reminder');
    await until('the reminder emails to be delivered', async () => ((await t.ctx.ds.getRepository(OutboxMessage).countBy({ kind: 'reminder-reassessment-due', status: 'sent' })) === 18 ? true : undefined));
    for (const name of due) assert.equal(smtp.messages.filter((m) => m.subject.endsWith(`: ${name}`)).length, 1, `one mail about ${name}`);
    // Every sweep that ran recorded what it wrote: together, the eighteen reminders and nothing more.
    const sweeps = await t.ctx.ds.getRepository(AuditEntry).findBy({ action: 'reminders.sweep' });
    assert.equal(sweeps.reduce((sum, e) => sum + Number((e.details as { sent: number }).sent), 0), 18);
  });

  test('When both instances deliver the outbox at once, then every message reaches the SMTP server exactly once', async () => {
    assert.ok(a && b);
    const n = 30;
    const run = crypto.randomBytes(3).toString('hex');
    // Queued without a kick: only the two instances deliver.
    await t.ctx.transact(async (m) => {
      for (let i = 0; i < n; i++) await enqueueMail(m, t.clock, t.ctx.mailKey, { kind: 'test-multi', to: `person${i}@example.com`, subject: `Batch ${run} message ${i}`, text: `Message ${i}` });
    });
    // Two failed messages, one resent through each instance at the same moment: each resend starts that instance's delivery.
    const failed: number[] = [];
    for (const i of [0, 1]) {
      const row = await t.ctx.ds.getRepository(OutboxMessage).save(
        t.ctx.ds.getRepository(OutboxMessage).create({ dedupeKey: null, kind: 'test-multi', toAddress: `failed${i}@example.com`, subject: `Batch ${run} failed ${i}`, bodyEncrypted: encryptText(t.ctx.mailKey, 'Again.'), htmlEncrypted: null, status: 'failed', attempts: 10, nextAttemptAt: t.clock.now(), sentAt: null, lastError: '451 try later', createdAt: t.clock.now() }),
      );
      failed.push(row.id);
    }
    const cookie = await signInAt(a.base, admin.email, admin.password);
    const tokenOf = async (base: string, id: number) => /name="_csrf" value="([^"]+)"/.exec((await get(base, `/admin/outbox/${id}`, cookie)).text)![1]!;
    const tokenA = await tokenOf(a.base, failed[0]!);
    const tokenB = await tokenOf(b.base, failed[1]!);
    const resend = (base: string, id: number, token: string) =>
      fetch(`${base}/admin/outbox/${id}/resend`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: token }).toString() });
    const [ra, rb] = await Promise.all([resend(a.base, failed[0]!, tokenA), resend(b.base, failed[1]!, tokenB)]);
    assert.equal(ra.status, 303, a.output.filter((l) => /"level":50/.test(l)).join('\n'));
    assert.equal(rb.status, 303, b.output.filter((l) => /"level":50/.test(l)).join('\n'));

    const mine = () => smtp.messages.filter((m) => m.subject.startsWith(`Batch ${run} `));
    await until('all 32 messages to arrive', () => (mine().length >= n + 2 ? true : undefined));
    await until('every row to be marked sent', async () => ((await t.ctx.ds.getRepository(OutboxMessage).countBy({ kind: 'test-multi', status: 'sent' })) === n + 2 ? true : undefined));
    const subjects = mine().map((m) => m.subject);
    assert.equal(subjects.length, n + 2, 'no message arrived twice');
    assert.equal(new Set(subjects).size, n + 2);
    const rows = await t.ctx.ds.getRepository(OutboxMessage).findBy({ kind: 'test-multi' });
    assert.deepEqual(new Set(rows.map((r) => r.attempts)), new Set([1]), 'each message was claimed once');
  });

  test('When a vendor uploads evidence through instance A, then a reviewer downloads it intact through instance B', async () => {
    assert.ok(a && b);
    const vendor = await makeVendor(t, { businessOwnerId: owner.user.id });
    const contact = await t.ctx.vendors.addContact(systemActor('test'), vendor.id, { name: 'Vera Vendor', email: `vera${vendor.id}@vendor.example`, isSecurityContact: true });
    const actor = { type: 'user' as const, id: owner.user.id, label: owner.email, ip: null };
    const { questionnaire, link } = await t.ctx.transact((m) => t.ctx.questionnaires.sendIn(m, actor, { vendorId: vendor.id, contactId: contact.id, templateId: 'test-dd', dueDate: addDays(today, 30) }));
    const base = new URL(link).pathname;

    const section = await get(a.base, `${base}/s/program`);
    assert.equal(section.status, 200);
    const action = /<form method="post" action="([^"]+)" enctype="multipart\/form-data"/.exec(section.text)![1]!.replace(/&amp;/g, '&');
    const form = new FormData();
    for (const m of section.text.matchAll(/name="present__([a-z0-9_-]+)"/g)) form.append(`present__${m[1]}`, '1');
    form.append('a__wisp', 'yes');
    form.append('action', 'save');
    form.append('file__wisp_doc', new Blob([PDF], { type: 'application/pdf' }), 'wisp.pdf');
    const saved = await fetch(a.base + action, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), method: 'POST', body: form, redirect: 'manual' });
    assert.equal(saved.status, 303, await saved.text());
    const file = await t.ctx.ds.getRepository(EvidenceFile).findOneByOrFail({ questionnaireId: questionnaire.id });

    const cookie = await signInAt(b.base, reviewer.email, reviewer.password);
    const download = await fetch(`${b.base}/questionnaires/${questionnaire.id}/files/${file.id}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), headers: { cookie }, redirect: 'manual' });
    assert.equal(download.status, 200);
    assert.match(download.headers.get('content-disposition') ?? '', /^attachment; filename="wisp\.pdf"/);
    assert.ok(Buffer.from(await download.arrayBuffer()).equals(PDF), 'decrypted by B exactly as A stored it');
  });
});
