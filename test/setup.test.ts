import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { User } from '../server/accounts/entities';
import { LoginFailed } from '../server/accounts/service';
import { AuditEntry } from '../server/audit/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { csrfFrom, GOOD_PASSWORD, signIn, submit } from './helpers/http';

const CLI = path.resolve(__dirname, '..', 'server', 'cli.js');

describe('first run', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  test('When the database is new, then no account exists and no guessable credential signs in', async () => {
    assert.equal(await t.ctx.ds.getRepository(User).count(), 0);
    const page = await request(t.app).get('/login');
    assert.equal(page.status, 200);
    assert.match(page.text, /No account exists yet, and Oversight has no default password/);
    for (const [email, password] of [['admin@example.com', 'admin'], ['admin', 'password'], ['admin@localhost', 'changeme12345']] as const) {
      await assert.rejects(t.ctx.accounts.login(email, password, null), LoginFailed);
      const res = await request(t.app).post('/login').type('form').send({ email, password });
      assert.equal(res.status, 403, 'a sign-in post without a form token is refused');
    }
  });

  test('When the setup link is used, then the first admin is created, signed in, and the link dies', async () => {
    const link = await t.ctx.accounts.issueSetupLink();
    assert.ok(link);
    const token = new URL(link).searchParams.get('token')!;

    assert.equal((await request(t.app).get('/setup')).status, 404);
    assert.equal((await request(t.app).get('/setup?token=not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaaaa')).status, 404);

    const agent = request.agent(t.app);
    const form = await agent.get(`/setup?token=${token}`);
    assert.equal(form.status, 200);
    const weak = await agent.post('/setup').type('form').send({
      _csrf: csrfFrom(form.text), token, name: 'Ada Admin', email: 'ada@example.com', password: 'password1234', confirmPassword: 'password1234',
    });
    assert.equal(weak.status, 400);
    assert.match(weak.text, /Password is too common/);
    assert.match(weak.text, /value="Ada Admin"/, 'what was typed is kept');
    assert.match(weak.text, /value="ada@example.com"/);
    assert.doesNotMatch(weak.text, /password1234/, 'passwords are never echoed back');

    const ok = await agent.post('/setup').type('form').send({
      _csrf: csrfFrom(weak.text), token, name: 'Ada Admin', email: 'Ada@Example.com', password: GOOD_PASSWORD, confirmPassword: GOOD_PASSWORD,
    });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.location, '/');
    const home = await agent.get('/');
    assert.equal(home.status, 200);
    assert.match(home.text, /Welcome, Ada Admin/);

    const admin = await t.ctx.ds.getRepository(User).findOneByOrFail({ email: 'ada@example.com' });
    assert.equal(admin.role, 'admin');
    assert.match(admin.passwordHash!, /^scrypt\$/);
    assert.ok(!admin.passwordHash!.includes(GOOD_PASSWORD));
    const audit = await t.ctx.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'setup.first_admin' });
    assert.equal(audit.entityId, String(admin.id));

    assert.equal((await request(t.app).get(`/setup?token=${token}`)).status, 410, 'the link works once');
    assert.equal(await t.ctx.accounts.issueSetupLink(), null, 'no new setup link once a user exists');
    await signIn(t.app, 'ada@example.com');
  });

  test('When an operator runs create-user, then a one-time password link is printed and works', async () => {
    const res = spawnSync(process.execPath, [CLI, 'create-user', '--email', 'ops@example.com', '--name', 'Ops Person', '--role', 'legal'], {
      env: { PATH: process.env.PATH, ...t.env, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(res.status, 0, res.stderr);
    const link = /http:\/\/portal\.test\/set-password\/([A-Za-z0-9_-]+)/.exec(res.stdout);
    assert.ok(link, res.stdout);
    const user = await t.ctx.ds.getRepository(User).findOneByOrFail({ email: 'ops@example.com' });
    assert.equal(user.role, 'legal');
    assert.equal(user.passwordHash, null, 'no password until the user chooses one');

    const agent = request.agent(t.app);
    const set = await submit(agent, `/set-password/${link[1]}`, `/set-password/${link[1]}`, { password: GOOD_PASSWORD, confirmPassword: GOOD_PASSWORD });
    assert.equal(set.status, 303);
    await signIn(t.app, 'ops@example.com');
    assert.equal((await request(t.app).get(`/set-password/${link[1]}`)).status, 410);

    const bad = spawnSync(process.execPath, [CLI, 'create-user', '--email', 'x@example.com', '--name', 'X', '--role', 'superuser'], {
      env: { PATH: process.env.PATH, ...t.env, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--role must be one of admin, procurement, legal, reviewer, viewer/);
  });
});
