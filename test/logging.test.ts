import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import request from 'supertest';
import { redactUrl } from '../server/logger';
import { createTestApp, type TestApp } from './helpers/app';
import { csrfFrom, GOOD_PASSWORD, makeUser, signIn } from './helpers/http';

const MAIN = path.resolve(__dirname, '..', 'server', 'main.js');

describe('request logging', () => {
  let t: TestApp;
  const lines: string[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    t = await createTestApp({ logger: pino({ level: 'info', redact: { paths: ['req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' } }, sink) });
  });
  after(() => t.close());

  test('When people sign in and use links, then no password, cookie or token reaches the log', async () => {
    const { email } = await makeUser(t, 'admin');
    const agent = await signIn(t.app, email);
    const { link } = await t.ctx.accounts.inviteUser({ type: 'system', id: null, label: 'test', ip: null }, { email: 'new@example.com', name: 'New', role: 'viewer' }, { sendEmail: false });
    const token = link.split('/').pop()!;
    await request(t.app).get(`/set-password/${token}`);
    await request(t.app).get(`/setup?token=${token}`);
    const page = await agent.get('/account/password');
    await agent.post('/account/password').type('form').send({ _csrf: csrfFrom(page.text), currentPassword: GOOD_PASSWORD, newPassword: 'another secret phrase 1', confirmPassword: 'another secret phrase 1' });
    const log = lines.join('');
    assert.match(log, /"url":"\/set-password\/\[token\]"/, 'requests are logged, with the token masked');
    assert.match(log, /"url":"\/setup\?token=\[redacted\]"/);
    assert.ok(!log.includes(token), 'no link token');
    assert.ok(!log.includes(GOOD_PASSWORD) && !log.includes('another secret phrase 1'), 'no password');
    assert.ok(!log.includes('oversight.sid='), 'no session cookie');
  });

  test('When requests finish, then each page gets one line with its status and time, and health checks and assets none', async () => {
    lines.length = 0;
    await request(t.app).get('/login');
    await request(t.app).get('/no-such-page');
    await request(t.app).get('/healthz');
    await request(t.app).get('/assets/style.css');
    const entries = lines.map((l) => JSON.parse(l) as { level: number; msg: string; req?: { method: string; url: string; remoteAddress?: string }; res?: { statusCode: number }; responseTime?: number }).filter((e) => e.req);
    assert.deepEqual(
      entries.map((e) => [e.req!.method, e.req!.url, e.res!.statusCode, e.msg, e.level]),
      [
        ['GET', '/login', 200, 'request completed', 30],
        ['GET', '/no-such-page', 404, 'request completed', 30],
      ],
    );
    for (const e of entries) {
      assert.equal(typeof e.responseTime, 'number');
      assert.ok(e.req!.remoteAddress, 'the client address is kept');
    }
  });

  test('When a URL carries tokens, then redactUrl masks them and keeps the rest', () => {
    assert.equal(redactUrl('/q/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-xy/answers?page=2'), '/q/[token]/answers?page=2');
    assert.equal(redactUrl('/setup?token=abc&x=1'), '/setup?token=[redacted]&x=1');
    assert.equal(redactUrl('/admin/users/12'), '/admin/users/12');
  });
});

describe('process lifecycle', () => {
  test('When the portal gets SIGTERM, then it stops gracefully with exit code 0', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-main-'));
    // Always the embedded default: this checks the process, not the database.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'info' };
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const listening = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (/listening on port \d+/.test(out)) resolve();
      });
      void exited.then((code) => reject(new Error(`portal exited with ${code} before listening: ${out}`)));
    });
    await listening;
    const port = /listening on port (\d+)/.exec(out)![1];
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /"msg":"stopped"/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
