import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import type { Role } from '../server/accounts/entities';
import { AuditEntry } from '../server/audit/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { type Agent, csrfFrom, makeUser, signedIn, signIn, submit } from './helpers/http';

describe('security baseline', () => {
  let t: TestApp;
  const agents = {} as Record<Role, Agent>;
  before(async () => {
    t = await createTestApp();
    for (const role of ['admin', 'procurement', 'legal', 'reviewer', 'viewer'] as const) agents[role] = (await signedIn(t, role)).agent;
  });
  after(() => t.close());

  test('When a state-changing form has no CSRF token or a wrong one, then it is refused with 403 and nothing changes', async () => {
    const { user } = await makeUser(t, 'viewer');
    const none = await agents.admin.post(`/admin/users/${user.id}/deactivate`).type('form').send({});
    assert.equal(none.status, 403);
    assert.match(none.text, /This form has expired or did not come from Oversight/);
    const wrong = await agents.admin.post(`/admin/users/${user.id}/deactivate`).type('form').send({ _csrf: 'forged-token' });
    assert.equal(wrong.status, 403);
    const otherSession = csrfFrom((await agents.viewer.get('/')).text);
    const stolen = await agents.admin.post(`/admin/users/${user.id}/deactivate`).type('form').send({ _csrf: otherSession });
    assert.equal(stolen.status, 403, "another session's token does not work");
    assert.equal((await t.ctx.accounts.getUser(user.id)).active, true);
    const json = await agents.admin.post('/logout').set('Accept', 'application/json').send({});
    assert.equal(json.status, 403);
    assert.equal(json.body.error.status, 403);
  });

  test('When any page is served, then the security headers are set and no script or style may be inline', async () => {
    for (const path of ['/login', '/', '/admin/users', '/no-such-page']) {
      const res = await agents.admin.get(path);
      const csp = res.headers['content-security-policy'] ?? '';
      assert.match(csp, /default-src 'self'/, path);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /style-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|https:/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['x-powered-by'], undefined);
      assert.equal(res.headers.etag, undefined, `${path}: a page that is never cached carries no ETag`);
      assert.doesNotMatch(res.text, /<script(?![^>]*\bsrc=)[^>]*>/i, `${path} has no inline script`);
      assert.doesNotMatch(res.text, /\sstyle="/i, `${path} has no inline style`);
    }
    const icon = await agents.admin.get('/favicon.ico');
    assert.equal(icon.status, 301, 'the automatic icon request is answered without a session');
    const css = await request(t.app).get('/assets/style.css');
    assert.equal(css.status, 200);
    assert.equal(css.headers['set-cookie'], undefined, 'assets start no session');
    assert.ok(css.headers.etag, 'assets keep their ETag for revalidation');
  });

  test('When BASE_URL is https, then the session cookie is Secure and HSTS is sent', async () => {
    const secure = await createTestApp({ env: { BASE_URL: 'https://vendors.example.com', TRUST_PROXY: '1' } });
    try {
      await makeUser(secure, 'viewer');
      const page = await request(secure.app).get('/login').set('X-Forwarded-Proto', 'https');
      const cookie = ([] as string[]).concat(page.headers['set-cookie'] ?? []).join(';');
      assert.match(cookie, /oversight\.sid=.*HttpOnly.*Secure/);
      const res = page;
      assert.match(res.headers['strict-transport-security'] ?? '', /max-age=31536000/);
    } finally {
      await secure.close();
    }
  });

  test('When each role opens each page so far, then only the allowed roles get in', async () => {
    const { user } = await makeUser(t, 'viewer');
    const pages: [string, Role[]][] = [
      ['/', ['admin', 'procurement', 'legal', 'reviewer', 'viewer']],
      ['/account', ['admin', 'procurement', 'legal', 'reviewer', 'viewer']],
      ['/account/password', ['admin', 'procurement', 'legal', 'reviewer', 'viewer']],
      ['/admin/users', ['admin']],
      ['/admin/users/new', ['admin']],
      [`/admin/users/${user.id}`, ['admin']],
      ['/admin/audit', ['admin', 'viewer']],
      ['/admin/outbox', ['admin']],
    ];
    for (const [path, allowed] of pages) {
      for (const role of Object.keys(agents) as Role[]) {
        const res = await agents[role].get(path);
        assert.equal(res.status, allowed.includes(role) ? 200 : 403, `${role} GET ${path}`);
      }
      const anon = await request(t.app).get(path);
      assert.equal(anon.status, 303, `anonymous GET ${path}`);
      assert.match(anon.headers.location!, /^\/login\?returnTo=/);
      const anonJson = await request(t.app).get(path).set('Accept', 'application/json');
      assert.equal(anonJson.status, 401);
    }
    const posts = [`/admin/users/${user.id}`, `/admin/users/${user.id}/deactivate`, `/admin/users/${user.id}/reactivate`, `/admin/users/${user.id}/unlock`, `/admin/users/${user.id}/password-link`, '/admin/users/new'];
    for (const path of posts) {
      for (const role of ['procurement', 'legal', 'reviewer', 'viewer'] as const) {
        const _csrf = csrfFrom((await agents[role].get('/')).text);
        const res = await agents[role].post(path).type('form').send({ _csrf, name: 'x', role: 'admin', email: 'y@example.com' });
        assert.equal(res.status, 403, `${role} POST ${path}`);
      }
    }
    assert.equal((await t.ctx.accounts.getUser(user.id)).role, 'viewer');
  });

  test('When an error page is shown between a change and the next page, then the message about the change survives', async () => {
    const { user } = await makeUser(t, 'viewer');
    const _csrf = csrfFrom((await agents.admin.get('/')).text);
    const res = await agents.admin.post(`/admin/users/${user.id}/unlock`).type('form').send({ _csrf });
    assert.equal(res.status, 303);
    assert.equal((await agents.admin.get('/no-such-page')).status, 404);
    const next = await agents.admin.get(res.headers.location!);
    assert.match(next.text, /Sign-in is unblocked\./);
  });

  test('When a page does not exist or an error happens, then the answer leaks nothing', async () => {
    const res = await agents.admin.get('/no/such/page');
    assert.equal(res.status, 404);
    assert.match(res.text, /There is no page at this address/);
    const json = await request(t.app).get('/nope').set('Accept', 'application/json');
    assert.equal(json.status, 404);
    assert.deepEqual(json.body, { error: { status: 404, message: 'There is no page at this address.' } });
    const user404 = await agents.admin.get('/admin/users/999999');
    assert.equal(user404.status, 404);
    const junk = await agents.admin.get('/admin/users/1%27%20OR%201=1');
    assert.equal(junk.status, 404);
    assert.doesNotMatch(junk.text, /at .*\.js|SQLITE|QueryFailed|stack/i);
  });

  test('When a body is too large or malformed, then it is refused with 413 or 400', async () => {
    const _csrf = csrfFrom((await agents.admin.get('/')).text);
    const big = await agents.admin.post('/admin/users/new').type('form').send({ _csrf, name: 'x'.repeat(300_000), email: 'a@b.co', role: 'viewer' });
    assert.equal(big.status, 413);
    const malformed = await agents.admin.post('/admin/users/new').set('Content-Type', 'application/json').set('X-CSRF-Token', _csrf).send('{"name":');
    assert.equal(malformed.status, 400);
    const long = await submit(agents.admin, '/admin/users/new', '/admin/users/new', { name: 'n'.repeat(201), email: 'long@example.com', role: 'viewer' });
    assert.equal(long.status, 400);
    assert.match(long.text, /Name must be at most 200 characters/);
  });

  test('When user data contains markup, then it is shown as text', async () => {
    await t.ctx.accounts.inviteUser({ type: 'system', id: null, label: 'test', ip: null }, { email: 'xss@example.com', name: '<script>alert(1)</script><img src=x onerror=alert(2)>', role: 'viewer' }, { sendEmail: false });
    const res = await agents.admin.get('/admin/users?q=xss');
    assert.match(res.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(res.text, /<script>alert|<img src=x/);
  });

  test('When /healthz is asked, then it answers 200 with the database up and 503 with it down', async () => {
    const ok = await request(t.app).get('/healthz');
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { status: 'ok', db: 'ok' });
    const other = await createTestApp();
    await other.ctx.ds.destroy();
    const down = await request(other.app).get('/healthz');
    assert.equal(down.status, 503);
    assert.deepEqual(down.body, { status: 'error', db: 'unreachable' });
    await other.close();
  });
});

describe('audit log', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedIn>>;
  before(async () => {
    t = await createTestApp({ app: { authRateLimit: { windowMs: 60_000, limit: 1000 } } });
    admin = await signedIn(t, 'admin');
  });
  after(() => t.close());

  test('When entries exist, then admins filter them by actor, record, action and date, a page at a time', async () => {
    const viewer = await makeUser(t, 'viewer', { email: 'auditee@example.com' });
    for (let i = 0; i < 60; i++) await submit(request.agent(t.app), '/login', '/login', { email: 'ghost@example.com', password: `nope nope ${i}` });
    t.clock.advance(2 * 86_400_000);
    await signIn(t.app, viewer.email);
    admin = await signedIn(t, 'admin');

    const byRecord = await admin.agent.get(`/admin/audit?entityType=user&entityId=${viewer.user.id}`);
    assert.equal(byRecord.status, 200);
    assert.match(byRecord.text, /user\.invited/);
    assert.match(byRecord.text, /auth\.login</);
    assert.doesNotMatch(byRecord.text, /ghost@example\.com/);

    const byActor = await admin.agent.get('/admin/audit?actor=ghost');
    assert.equal((byActor.text.match(/auth\.login_failed/g) ?? []).length, 50, 'first page holds 50');
    assert.match(byActor.text, /rel="next"/);
    const page2 = await admin.agent.get('/admin/audit?actor=ghost&page=2');
    assert.equal((page2.text.match(/auth\.login_failed/g) ?? []).length, 10);
    assert.doesNotMatch(page2.text, /rel="next"/);

    const day = t.clock.now().toISOString().slice(0, 10);
    const today = await admin.agent.get(`/admin/audit?from=${day}&to=${day}`);
    assert.match(today.text, /auditee@example\.com/);
    assert.doesNotMatch(today.text, /ghost@example\.com/);

    const bad = await admin.agent.get('/admin/audit?from=yesterday');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /From must be a date/);
    const likeChars = await admin.agent.get('/admin/audit?actor=%25');
    assert.equal(likeChars.status, 200);
    assert.match(likeChars.text, /No entries match/, 'a % is searched for literally');
  });

  test('When anything tries to change or delete an audit entry, then the database refuses', async () => {
    const repo = t.ctx.ds.getRepository(AuditEntry);
    const entry = await repo.findOneOrFail({ where: {}, order: { id: 'ASC' } });
    await assert.rejects(repo.update({ id: entry.id }, { action: 'tampered' }), /append-only/);
    await assert.rejects(repo.delete({ id: entry.id }), /append-only/);
    assert.equal((await repo.findOneByOrFail({ id: entry.id })).action, entry.action);
  });

  test('When mail is kept locally, then admins read it in the outbox', async () => {
    admin = await signedIn(t, 'admin');
    await submit(admin.agent, '/admin/users/new', '/admin/users/new', { name: 'Lee Legal', email: 'lee@example.com', role: 'legal' });
    await t.ctx.mail.deliverDue();
    const list = await admin.agent.get('/admin/outbox');
    assert.match(list.text, /No SMTP server is configured/);
    assert.match(list.text, /lee@example\.com/);
    assert.match(list.text, />kept</);
    const id = /href="\/admin\/outbox\/(\d+)"/.exec(list.text)![1];
    const msg = await admin.agent.get(`/admin/outbox/${id}`);
    assert.match(msg.text, /Hello Lee Legal,/);
    assert.match(msg.text, /http:\/\/portal\.test\/set-password\//);
  });
});
