import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { SessionRecord, User } from '../server/accounts/entities';
import { AuditEntry } from '../server/audit/entities';
import { OutboxMessage } from '../server/mail/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { GOOD_PASSWORD, makeUser, signedIn, signIn, submit } from './helpers/http';
import { type SmtpListener, startSmtp } from './helpers/smtp';

describe('user administration', () => {
  let t: TestApp;
  let smtp: SmtpListener;
  let admin: Awaited<ReturnType<typeof signedIn>>;
  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ smtp });
    admin = await signedIn(t, 'admin');
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  test('When an admin invites a user, then the invitation arrives by SMTP and its link sets the password', async () => {
    const res = await submit(admin.agent, '/admin/users/new', '/admin/users/new', { name: 'Priya Procurement', email: 'Priya@Example.com', role: 'procurement' });
    assert.equal(res.status, 201);
    const shown = /value="(http:\/\/portal\.test\/set-password\/[A-Za-z0-9_-]+)"/.exec(res.text);
    assert.ok(shown, 'the admin sees the link too');

    const mail = await smtp.waitFor((m) => m.to.includes('priya@example.com'));
    assert.equal(mail.subject, 'You have been invited to Oversight');
    assert.match(mail.text, /Hello Priya Procurement,/);
    assert.match(mail.text, /role "Procurement"/);
    assert.ok(mail.text.includes(shown[1]!), 'the emailed link is the one shown');
    await t.ctx.mail.deliverDue();
    const row = await t.ctx.ds.getRepository(OutboxMessage).findOneByOrFail({ toAddress: 'priya@example.com' });
    assert.equal(row.status, 'sent');
    assert.ok(!row.bodyEncrypted.includes('set-password'), 'queued bodies are encrypted');

    const invitee = request.agent(t.app);
    const path = new URL(shown[1]!).pathname;
    const mismatch = await submit(invitee, path, path, { password: GOOD_PASSWORD, confirmPassword: 'something else entirely' });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.text, /The two passwords differ/);
    const set = await submit(invitee, path, path, { password: GOOD_PASSWORD, confirmPassword: GOOD_PASSWORD });
    assert.equal(set.status, 303);
    const agent = await signIn(t.app, 'priya@example.com');
    assert.equal((await agent.get('/admin/users')).status, 403, 'procurement is not an admin');
    const actions = (await t.ctx.ds.getRepository(AuditEntry).find({ order: { id: 'ASC' } })).map((e) => e.action);
    assert.ok(actions.includes('user.invited') && actions.includes('user.activated'));
  });

  test('When an invitation is for an existing email, then the form says so and keeps the input', async () => {
    const res = await submit(admin.agent, '/admin/users/new', '/admin/users/new', { name: 'Dup', email: admin.email, role: 'viewer' });
    assert.equal(res.status, 409);
    assert.match(res.text, /A user with this email already exists/);
    assert.match(res.text, /value="Dup"/);
    const bad = await submit(admin.agent, '/admin/users/new', '/admin/users/new', { name: '', email: 'not-an-email', role: 'owner' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Name is required/);
    assert.match(bad.text, /Email must be a valid email address/);
    assert.match(bad.text, /Role must be one of/);
    assert.match(bad.text, /href="#field-email"/, 'the error summary links to the field');
  });

  test('When an admin changes a role, then the audit entry records before and after', async () => {
    const { user } = await makeUser(t, 'viewer');
    const res = await submit(admin.agent, `/admin/users/${user.id}`, `/admin/users/${user.id}`, { name: user.name, role: 'reviewer' });
    assert.equal(res.status, 303);
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'user.updated', entityId: String(user.id) });
    assert.deepEqual(entry.changes, { role: ['viewer', 'reviewer'] });
    assert.equal(entry.actorLabel, admin.email);
    assert.equal((await t.ctx.ds.getRepository(User).findOneByOrFail({ id: user.id })).role, 'reviewer');
  });

  test('When an admin deactivates a user, then that user is signed out at once and cannot sign in', async () => {
    const victim = await signedIn(t, 'legal');
    assert.equal((await victim.agent.get('/')).status, 200);
    const res = await submit(admin.agent, `/admin/users/${victim.user.id}`, `/admin/users/${victim.user.id}/deactivate`, {});
    assert.equal(res.status, 303);
    assert.equal(await t.ctx.ds.getRepository(SessionRecord).countBy({ userId: victim.user.id }), 0);
    const after = await victim.agent.get('/');
    assert.equal(after.status, 303);
    assert.match(after.headers.location!, /^\/login/);
    const retry = await submit(request.agent(t.app), '/login', '/login', { email: victim.email, password: GOOD_PASSWORD });
    assert.equal(retry.status, 401);
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'user.deactivated', entityId: String(victim.user.id) });
    assert.equal((entry.details as { sessionsEnded: number }).sessionsEnded, 1);

    await submit(admin.agent, `/admin/users/${victim.user.id}`, `/admin/users/${victim.user.id}/reactivate`, {});
    await signIn(t.app, victim.email);
  });

  test('When the last admin would be deactivated or demoted, then it is refused', async () => {
    const fresh = await createTestApp();
    try {
      const only = await signedIn(fresh, 'admin');
      const res = await submit(only.agent, `/admin/users/${only.user.id}`, `/admin/users/${only.user.id}/deactivate`, {});
      assert.equal(res.status, 409);
      assert.match(res.text, /at least one active administrator/);
      const demote = await submit(only.agent, `/admin/users/${only.user.id}`, `/admin/users/${only.user.id}`, { name: 'X', role: 'viewer' });
      assert.equal(demote.status, 409);
      assert.equal((await fresh.ctx.ds.getRepository(User).findOneByOrFail({ id: only.user.id })).role, 'admin');
    } finally {
      await fresh.close();
    }
  });

  test('When an admin issues a reset link, then the old password works until the new one is set', async () => {
    const target = await makeUser(t, 'reviewer');
    const res = await submit(admin.agent, `/admin/users/${target.user.id}`, `/admin/users/${target.user.id}/password-link`, {});
    assert.equal(res.status, 200);
    const mail = await smtp.waitFor((m) => m.to.includes(target.email) && m.subject === 'Set a new Oversight password');
    const link = /http:\/\/portal\.test(\/set-password\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    await signIn(t.app, target.email);
    const newPassword = 'a different long phrase 7';
    assert.equal((await submit(request.agent(t.app), link, link, { password: newPassword, confirmPassword: newPassword })).status, 303);
    assert.equal((await submit(request.agent(t.app), '/login', '/login', { email: target.email, password: GOOD_PASSWORD })).status, 401);
    await signIn(t.app, target.email, newPassword);
  });

  test('When a user changes their own password, then their other sessions end and this one stays', async () => {
    const me = await signedIn(t, 'procurement');
    const other = await signIn(t.app, me.email);
    const wrong = await submit(me.agent, '/account/password', '/account/password', { currentPassword: 'not my password', newPassword: 'brand new phrase 99', confirmPassword: 'brand new phrase 99' });
    assert.equal(wrong.status, 400);
    assert.match(wrong.text, /This is not your current password/);
    const ok = await submit(me.agent, '/account/password', '/account/password', { currentPassword: GOOD_PASSWORD, newPassword: 'brand new phrase 99', confirmPassword: 'brand new phrase 99' });
    assert.equal(ok.status, 303);
    assert.equal((await me.agent.get('/account')).status, 200);
    assert.equal((await other.get('/account')).status, 303);
    await signIn(t.app, me.email, 'brand new phrase 99');
  });

  test('When the user list is long, then it is paginated and searchable', async () => {
    for (let i = 0; i < 52; i++) await t.ctx.accounts.inviteUser({ type: 'system', id: null, label: 'test', ip: null }, { email: `bulk${i}@example.com`, name: `Bulk ${String(i).padStart(2, '0')}`, role: 'viewer' }, { sendEmail: false });
    const first = await admin.agent.get('/admin/users');
    assert.equal(first.status, 200, first.text.slice(0, 2000));
    assert.equal((first.text.match(/<tr>/g) ?? []).length - 1, 50);
    assert.match(first.text, /rel="next"/);
    const second = await admin.agent.get('/admin/users?page=2');
    assert.match(second.text, /rel="prev"/);
    const search = await admin.agent.get('/admin/users?q=bulk%2007');
    assert.match(search.text, /Bulk 07/);
    assert.doesNotMatch(search.text, /Bulk 08/);
    assert.equal((await admin.agent.get('/admin/users?page=zero')).status, 400);
  });
});
