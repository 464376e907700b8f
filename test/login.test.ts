import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { User } from '../server/accounts/entities';
import { passwordProblem } from '../server/accounts/passwords';
import { AuditEntry } from '../server/audit/entities';
import { HOUR, MINUTE } from '../server/clock';
import { createTestApp, type TestApp } from './helpers/app';
import { csrfFrom, GOOD_PASSWORD, makeUser, signIn, submit } from './helpers/http';

const cookieOf = (res: request.Response): string | undefined =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('oversight.sid='));

describe('signing in', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ app: { authRateLimit: { windowMs: 15 * MINUTE, limit: 1000 } } });
    await makeUser(t, 'admin', { email: 'first-admin@example.com' });
  });
  after(() => t.close());

  test('When the password is right, then the session id changes and the cookie is HttpOnly and SameSite=Lax', async () => {
    const { email } = await makeUser(t, 'procurement');
    const agent = request.agent(t.app);
    const page = await agent.get('/login');
    const before = cookieOf(page);
    assert.ok(before, 'the sign-in form starts a session for its CSRF token');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email: email.toUpperCase(), password: GOOD_PASSWORD });
    assert.equal(res.status, 303);
    const afterCookie = cookieOf(res);
    assert.ok(afterCookie);
    assert.notEqual(afterCookie.split(';')[0], before.split(';')[0], 'session id rotated at sign-in');
    assert.match(afterCookie, /HttpOnly/);
    assert.match(afterCookie, /SameSite=Lax/);
    assert.doesNotMatch(afterCookie, /Secure/, 'not Secure on an http BASE_URL');
    assert.equal((await agent.get('/')).status, 200);
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'auth.login', actorLabel: email });
    assert.ok(entry.ip);
  });

  test('When the email is unknown or the password wrong, then the answer is the same and reveals nothing', async () => {
    const { email } = await makeUser(t, 'legal');
    const a = await submit(request.agent(t.app), '/login', '/login', { email, password: 'wrong password here' });
    const b = await submit(request.agent(t.app), '/login', '/login', { email: 'nobody@example.com', password: 'wrong password here' });
    assert.equal(a.status, 401);
    assert.equal(b.status, 401);
    const message = (html: string) => /<div class="error-summary"[\s\S]*?<\/div>/.exec(html)?.[0];
    assert.equal(message(a.text), message(b.text));
    assert.match(a.text, /value="[^"]*legal/, 'the email stays in the form');
    const failures = await t.ctx.ds.getRepository(AuditEntry).findBy({ action: 'auth.login_failed' });
    assert.ok(failures.some((f) => f.actorLabel === 'nobody@example.com' && f.actorType === 'anonymous'));
  });

  test('When five attempts fail, then the account locks for 15 minutes even for the right password, then opens', async () => {
    const { email, user } = await makeUser(t, 'reviewer');
    for (let i = 0; i < 5; i++) {
      const res = await submit(request.agent(t.app), '/login', '/login', { email, password: `wrong password ${i}` });
      assert.equal(res.status, 401);
    }
    const locked = await submit(request.agent(t.app), '/login', '/login', { email, password: GOOD_PASSWORD });
    assert.equal(locked.status, 401, 'locked: the right password does not sign in');
    const lockEntry = await t.ctx.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'auth.locked', entityId: String(user.id) });
    assert.equal((lockEntry.details as { failures: number }).failures, 5);
    assert.ok(await t.ctx.ds.getRepository(AuditEntry).findOneBy({ action: 'auth.login_failed', entityId: String(user.id) }));

    t.clock.advance(14 * MINUTE);
    assert.equal((await submit(request.agent(t.app), '/login', '/login', { email, password: GOOD_PASSWORD })).status, 401);
    t.clock.advance(1 * MINUTE + 1000);
    await signIn(t.app, email);
    const row = await t.ctx.ds.getRepository(User).findOneByOrFail({ id: user.id });
    assert.equal(row.failedLoginCount, 0);
    assert.equal(row.lockedUntil, null);
  });

  test('When failures are not consecutive, then a success in between resets the count', async () => {
    const { email } = await makeUser(t, 'viewer');
    for (let i = 0; i < 4; i++) await submit(request.agent(t.app), '/login', '/login', { email, password: 'not the password' });
    await signIn(t.app, email);
    for (let i = 0; i < 4; i++) await submit(request.agent(t.app), '/login', '/login', { email, password: 'not the password' });
    await signIn(t.app, email);
  });

  test('When a session is idle for 30 minutes, then it ends', async () => {
    const { email } = await makeUser(t, 'viewer');
    const agent = await signIn(t.app, email);
    t.clock.advance(29 * MINUTE);
    assert.equal((await agent.get('/')).status, 200);
    t.clock.advance(29 * MINUTE);
    assert.equal((await agent.get('/')).status, 200, 'activity keeps it alive');
    t.clock.advance(31 * MINUTE);
    const res = await agent.get('/');
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, '/login?returnTo=%2F');
  });

  test('When a session is 12 hours old, then it ends even if active', async () => {
    const { email } = await makeUser(t, 'viewer');
    const agent = await signIn(t.app, email);
    for (let elapsed = 0; elapsed < 12 * HOUR - 20 * MINUTE; elapsed += 20 * MINUTE) {
      t.clock.advance(20 * MINUTE);
      assert.equal((await agent.get('/')).status, 200);
    }
    t.clock.advance(25 * MINUTE);
    assert.equal((await agent.get('/')).status, 303);
  });

  test('When the sign-in page is given an outside returnTo, then it goes home instead', async () => {
    const { email } = await makeUser(t, 'viewer');
    const agent = request.agent(t.app);
    const page = await agent.get('/login?returnTo=//evil.example/x');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email, password: GOOD_PASSWORD, returnTo: '//evil.example/x' });
    assert.equal(res.headers.location, '/');
    const agent2 = request.agent(t.app);
    const page2 = await agent2.get('/login');
    const res2 = await agent2.post('/login').type('form').send({ _csrf: csrfFrom(page2.text), email, password: GOOD_PASSWORD, returnTo: '/admin/audit?page=2' });
    assert.equal(res2.headers.location, '/admin/audit?page=2');
  });

  test('When a new password is weak, then the policy names the reason', () => {
    assert.match(passwordProblem('short', 'a@example.com')!, /at least 12/);
    assert.match(passwordProblem('password1234', 'a@example.com')!, /too common/);
    assert.match(passwordProblem('qwertyuiop123!', 'a@example.com')!, /too common/);
    assert.match(passwordProblem('jane.doe@example.com', 'jane.doe@example.com')!, /email/);
    assert.match(passwordProblem('janedoe-is-the-best', 'janedoe@example.com')!, /email/);
    assert.match(passwordProblem('aaaaaaaaaaaaaaaa', 'a@example.com')!, /too few different/);
    assert.equal(passwordProblem(GOOD_PASSWORD, 'a@example.com'), null);
  });

  test('When a user signs out, then the session no longer works', async () => {
    const { email } = await makeUser(t, 'viewer');
    const agent = await signIn(t.app, email);
    const res = await submit(agent, '/', '/logout', {});
    assert.equal(res.status, 303);
    assert.equal((await agent.get('/')).status, 303);
    assert.ok(await t.ctx.ds.getRepository(AuditEntry).findOneBy({ action: 'auth.logout', actorLabel: email }));
  });
  test('When a page redirects with a message, then the session is stored before the browser sees the redirect', async () => {
    const { email } = await makeUser(t, 'viewer');
    const page = await request(t.app).get('/login');
    const signedIn = await request(t.app).post('/login').set('Cookie', cookieOf(page)!.split(';')[0]!).type('form').send({ _csrf: csrfFrom(page.text), email, password: GOOD_PASSWORD });
    const cookie = cookieOf(signedIn)!.split(';')[0]!;
    const home = await request(t.app).get('/').set('Cookie', cookie);
    const store = t.ctx.sessions;
    const originalSet = store.set.bind(store);
    let stored = false;
    store.set = (sid, sess, cb) => {
      // A slow store: the redirect must wait for it, or the next page loads without the message.
      setTimeout(() => originalSet(sid, sess, (err) => { stored = true; cb?.(err); }), 150);
    };
    const server = http.createServer(t.app).listen(0, '127.0.0.1');
    try {
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      const body = new URLSearchParams({ _csrf: csrfFrom(home.text) }).toString();
      const storedWhenHeadersArrived = await new Promise<boolean>((resolve, reject) => {
        const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/logout', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
          assert.equal(res.statusCode, 303);
          resolve(stored);
          res.resume();
        });
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(storedWhenHeadersArrived, true);
    } finally {
      store.set = originalSet;
      server.close();
    }
  });
});

describe('sign-in rate limit', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ app: { authRateLimit: { windowMs: 15 * MINUTE, limit: 3 } } });
    await makeUser(t, 'admin', { email: 'limit-admin@example.com' });
  });
  after(() => t.close());

  test('When one address posts too many sign-ins, then it is refused with 429', async () => {
    const agent = request.agent(t.app);
    const page = await agent.get('/login');
    const token = csrfFrom(page.text);
    for (let i = 0; i < 3; i++) {
      const res = await agent.post('/login').type('form').send({ _csrf: token, email: 'x@example.com', password: 'wrong password' });
      assert.equal(res.status, 401);
    }
    const res = await agent.post('/login').type('form').send({ _csrf: token, email: 'limit-admin@example.com', password: GOOD_PASSWORD });
    assert.equal(res.status, 429);
    assert.match(res.text, /Too many attempts/);
  });
});
