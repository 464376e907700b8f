import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { User } from '../server/accounts/entities';
import { systemActor } from '../server/audit/service';
import { MINUTE } from '../server/clock';
import { addDays, localDate } from '../server/dates';
import { OutboxMessage } from '../server/mail/entities';
import { Reminder } from '../server/reminders/entities';
import { LeaseService } from '../server/reminders/lease';
import { runSweep } from '../server/reminders/sweep';
import { Vendor } from '../server/vendors/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { csrfFrom, makeUser, makeVendor, signIn } from './helpers/http';
import { saveSection, submitAnswers, TEST_TEMPLATE } from './helpers/portal';
import { type SmtpListener, startSmtp } from './helpers/smtp';

const run = promisify(execFile);
const userActor = (u: { user: { id: number }; email: string }) => ({ type: 'user' as const, id: u.user.id, label: u.email, ip: null });

/** A templates folder whose annual-reassessment is the short test questionnaire. */
function templatesDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
  fs.writeFileSync(path.join(dir, 'annual-reassessment.yaml'), TEST_TEMPLATE.replace('id: test-dd', 'id: annual-reassessment').replace('title: Test due diligence', 'title: Annual reassessment'));
  fs.writeFileSync(path.join(dir, 'test-dd.yaml'), TEST_TEMPLATE);
  return dir;
}

/** One sweep at 08:00 UTC of the day, then delivery; returns the mails that arrived. */
async function sweepDay(t: TestApp, smtp: SmtpListener, day: string) {
  t.clock.set(`${day}T08:00:00.000Z`);
  const before = smtp.messages.length;
  await runSweep(t.ctx, t.clock.now());
  await t.ctx.mail.deliverDue();
  return smtp.messages.slice(before);
}

describe('a year of reminders for one vendor', () => {
  let t: TestApp;
  let smtp: SmtpListener;
  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ smtp, templatesDir: templatesDir(), env: { REASSESSMENT_MONTHS: 'critical=6,high=6,medium=6,low=6' } });
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  test('When a year passes day by day, then the reassessment is sent by itself, reminded, escalated, answered, approved, and sent again next cycle, each mail once', async () => {
    const owner = await makeUser(t, 'procurement', { name: 'Olive Owner' });
    const reviewer = await makeUser(t, 'reviewer');
    const vendor = await makeVendor(t, { legalName: 'Harbor Payroll LLC', status: 'active', businessOwnerId: owner.user.id, lastAssessedOn: '2025-08-15' });
    assert.equal(vendor.nextReassessmentOn, '2026-02-15');
    await t.ctx.vendors.addContact(systemActor('test'), vendor.id, { name: 'Bo Contact', email: 'bo@harbor.example', isSecurityContact: true });

    const log: { day: string; to: string; subject: string; text: string }[] = [];
    let questionnaireId: number | null = null;
    for (let day = '2026-01-01'; day <= '2026-07-27'; day = addDays(day, 1)) {
      if (day === '2026-02-24') {
        const link = /\/q\/[A-Za-z0-9_-]+/.exec(log.find((m) => m.subject.includes('asks Harbor Payroll LLC'))!.text)![0];
        t.clock.set(`${day}T07:00:00.000Z`);
        await saveSection(t.app, link, 'program', { wisp: 'no', trained: '70' });
        await saveSection(t.app, link, 'incidents', { incident: 'no' });
        assert.equal((await submitAnswers(t.app, link)).status, 303);
      }
      if (day === '2026-02-25') {
        t.clock.set(`${day}T07:00:00.000Z`);
        await t.ctx.reviews.decide(userActor(reviewer), questionnaireId!, 'approved', 'Answered after escalation.');
      }
      for (const m of await sweepDay(t, smtp, day)) log.push({ day, to: m.to.join(','), subject: m.subject, text: m.text });
      if (!questionnaireId) questionnaireId = (await t.ctx.questionnaires.forVendor(vendor.id))[0]?.id ?? null;
    }
    const toVendor = log.filter((m) => m.to === 'bo@harbor.example').map((m) => `${m.day} ${m.subject}`);
    assert.deepEqual(toVendor, [
      '2026-01-16 Our organization asks Harbor Payroll LLC to answer: Annual reassessment',
      '2026-01-19 Did you receive it? "Annual reassessment" from Our organization',
      '2026-02-08 Reminder: "Annual reassessment" is due in 7 days (2026-02-15)',
      '2026-02-12 Reminder: "Annual reassessment" is due in 3 days (2026-02-15)',
      '2026-02-14 Reminder: "Annual reassessment" is due tomorrow (2026-02-15)',
      '2026-02-16 Overdue: "Annual reassessment" was due on 2026-02-15',
      '2026-02-23 Overdue: "Annual reassessment" was due on 2026-02-15',
      '2026-02-24 Received: your answers to "Annual reassessment"',
      '2026-07-26 Our organization asks Harbor Payroll LLC to answer: Annual reassessment',
    ]);
    const toOwner = log.filter((m) => m.to === owner.email && m.subject.startsWith('Overdue')).map((m) => `${m.day} ${m.subject}`);
    assert.deepEqual(toOwner, ['2026-02-22 Overdue 7 days: Harbor Payroll LLC, "Annual reassessment"']);
    // Every reminder carries the same link as the invitation.
    const firstLink = /\/q\/[A-Za-z0-9_-]+/.exec(log[0]!.text)![0];
    for (const m of log.filter((x) => x.to === 'bo@harbor.example' && x.day < '2026-02-24')) assert.ok(m.text.includes(firstLink), `${m.subject} carries the link`);
    const v = await t.ctx.ds.getRepository(Vendor).findOneByOrFail({ id: vendor.id });
    assert.equal(v.lastAssessedOn, '2026-02-25');
    assert.equal(v.nextReassessmentOn, '2026-08-25');
    const page = await (await signIn(t.app, owner.email)).get(`/vendors/${vendor.id}`);
    assert.match(page.text, /Reminders/);
    assert.match(page.text, /Escalated to the business owner/);
  });
});

describe('exactly-once reminders', () => {
  let t: TestApp;
  let smtp: SmtpListener;
  let vendorId: number;
  const links: string[] = [];
  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ smtp, templatesDir: templatesDir() });
    const owner = await makeUser(t, 'procurement');
    const v = await makeVendor(t, { status: 'active', businessOwnerId: owner.user.id });
    vendorId = v.id;
    const c = await t.ctx.vendors.addContact(systemActor('test'), v.id, { name: 'Ann', email: 'ann@vendor.example', isSecurityContact: true });
    for (let i = 0; i < 3; i += 1) links.push((await t.ctx.questionnaires.send(systemActor('test'), { vendorId: v.id, contactId: c.id, templateId: 'test-dd', dueDate: '2026-03-20' })).link);
    await t.ctx.mail.deliverDue();
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  const reminderMails = () => smtp.messages.filter((m) => m.subject.startsWith('Reminder:'));

  test('When two instances sweep at the same moment, or the lease is bypassed, then each reminder is written and mailed once', async () => {
    t.clock.set('2026-03-14T08:00:00.000Z');
    const other = { ...t.ctx, leases: new LeaseService(t.ctx.ds, t.clock) };
    const [a, b] = await Promise.all([runSweep(t.ctx, t.clock.now()), runSweep(other, t.clock.now())]);
    assert.equal([a, b].filter((r) => r.ran).length, 1, 'the lease lets one of them sweep');
    // Without the lease (two sweeps that both think they may run), the unique key still holds.
    const open = { ...t.ctx, leases: { withLease: <T>(_n: string, _ttl: number, work: () => Promise<T>) => work() } as unknown as LeaseService };
    const [c, d] = await Promise.all([runSweep(open, t.clock.now()), runSweep({ ...open }, t.clock.now())]);
    assert.equal(c.sent + d.sent, 0, 'everything was sent by the first sweep');
    await t.ctx.mail.deliverDue();
    assert.deepEqual(reminderMails().map((m) => m.subject), Array(3).fill('Reminder: "Test due diligence" is due in 6 days (2026-03-20)'), 'one "due in 7 days" per questionnaire');
    // Each reminder carries its own questionnaire's live link (read for the whole batch at once).
    assert.deepEqual(links.map((link) => reminderMails().filter((m) => m.text.includes(link)).length), [1, 1, 1]);
    assert.equal(smtp.messages.filter((m) => m.subject.startsWith('Did you receive it')).length, 3, 'and one nudge per unopened link');
    assert.equal(await t.ctx.ds.getRepository(Reminder).count({ where: { vendorId } }), 6);
    const keys = (await t.ctx.ds.getRepository(OutboxMessage).find()).map((m) => m.dedupeKey).filter(Boolean);
    assert.equal(new Set(keys).size, keys.length);
  });

  test('When the portal stops between writing the outbox and delivering, then after restart each message goes once and a new sweep adds nothing', async () => {
    t.clock.set('2026-03-17T08:00:00.000Z');
    const result = await runSweep(t.ctx, t.clock.now());
    assert.equal(result.sent, 3, 'three "due in 3 days" reminders written');
    // "Crash": nothing delivered yet. A fresh sweep after the restart finds them written already.
    const again = await runSweep(t.ctx, t.clock.now());
    assert.equal(again.planned.length, 0);
    await t.ctx.mail.deliverDue();
    await t.ctx.mail.deliverDue();
    assert.equal(reminderMails().filter((m) => m.subject.includes('due in 3 days')).length, 3);
  });

  test('When SMTP refuses for a while and then accepts, then every reminder is delivered exactly once; after ten refusals an admin can resend', async () => {
    smtp.refusing = true;
    t.clock.set('2026-03-19T08:00:00.000Z');
    assert.equal((await runSweep(t.ctx, t.clock.now())).sent, 3);
    await t.ctx.mail.deliverDue();
    const pending = await t.ctx.ds.getRepository(OutboxMessage).find({ where: { status: 'pending' } });
    assert.equal(pending.length, 3);
    assert.ok(pending.every((m) => m.attempts === 1 && /451|unavailable/i.test(m.lastError ?? '')));
    t.clock.advance(MINUTE);
    await t.ctx.mail.deliverDue();
    smtp.refusing = false;
    t.clock.advance(2 * MINUTE);
    await t.ctx.mail.deliverDue();
    t.clock.advance(60 * MINUTE);
    await t.ctx.mail.deliverDue();
    assert.equal(reminderMails().filter((m) => m.subject.includes('due tomorrow')).length, 3);

    // Ten refusals: failed, visible to admins, and resent by hand.
    smtp.refusing = true;
    t.clock.set('2026-03-21T08:00:00.000Z');
    await runSweep(t.ctx, t.clock.now());
    for (let i = 0; i < 12; i += 1) {
      await t.ctx.mail.deliverDue();
      t.clock.advance(61 * MINUTE);
    }
    const failed = await t.ctx.ds.getRepository(OutboxMessage).find({ where: { status: 'failed' } });
    assert.equal(failed.length, 3);
    assert.ok(failed.every((m) => m.attempts === 10));
    smtp.refusing = false;
    const admin = await makeUser(t, 'admin');
    const agent = await signIn(t.app, admin.email);
    const page = await agent.get(`/admin/outbox/${failed[0]!.id}`);
    assert.match(page.text, /Service temporarily unavailable/);
    const res = await agent.post(`/admin/outbox/${failed[0]!.id}/resend`).type('form').send({ _csrf: csrfFrom(page.text) });
    assert.equal(res.status, 303);
    await t.ctx.mail.deliverDue();
    assert.equal(reminderMails().filter((m) => m.subject.startsWith('Overdue')).length, 0);
    assert.equal(smtp.messages.filter((m) => m.subject.startsWith('Overdue:')).length, 1);
    const again = await agent.post(`/admin/outbox/${failed[0]!.id}/resend`).type('form').send({ _csrf: csrfFrom(page.text) });
    assert.equal(again.status, 409, 'a sent message cannot be resent');
  });

  test('When asked for a dry run, then it lists what would be sent and writes nothing, from the command line too', async () => {
    t.clock.set('2026-03-28T08:00:00.000Z');
    const before = await t.ctx.ds.getRepository(Reminder).count();
    const dry = await runSweep(t.ctx, t.clock.now(), { dryRun: true });
    assert.ok(dry.planned.some((p) => p.rule === 'questionnaire-overdue'));
    assert.equal(await t.ctx.ds.getRepository(Reminder).count(), before);
    const cli = path.join(__dirname, '..', 'server', 'cli.js');
    const { stdout } = await run(process.execPath, [cli, 'reminders', '--dry-run', '--at', '2026-03-28'], { env: { ...process.env, ...t.env } });
    assert.match(stdout, /Would send \d+ reminders? for 2026-03-28/);
    assert.match(stdout, /\[questionnaire-overdue\] to ann@vendor\.example/);
    assert.equal(await t.ctx.ds.getRepository(Reminder).count(), before);
    await assert.rejects(run(process.execPath, [cli, 'reminders', '--at', '2026-13-01'], { env: { ...process.env, ...t.env } }), /--at must be a date/);
  });
});

describe('reminder rules, digests, time zones and pages', () => {
  let t: TestApp;
  let smtp: SmtpListener;
  before(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ smtp, templatesDir: templatesDir(), env: { REMINDER_TIMEZONE: 'America/Los_Angeles' } });
  });
  after(async () => {
    await t.close();
    await smtp.close();
  });

  test('When the clocks spring forward, then "today" is the local day: the 1-day reminder the evening before, the overdue notice the next local day', async () => {
    assert.equal(localDate(new Date('2026-03-08T07:30:00Z'), 'America/Los_Angeles'), '2026-03-07');
    assert.equal(localDate(new Date('2026-03-09T07:30:00Z'), 'America/Los_Angeles'), '2026-03-09');
    assert.equal(localDate(new Date('2026-11-01T08:30:00Z'), 'America/Los_Angeles'), '2026-11-01');
    const v = await makeVendor(t, { status: 'active' });
    const c = await t.ctx.vendors.addContact(systemActor('test'), v.id, { name: 'Dee', email: 'dee@dst.example', isSecurityContact: true });
    t.clock.set('2026-03-01T18:00:00.000Z');
    await t.ctx.questionnaires.send(systemActor('test'), { vendorId: v.id, contactId: c.id, templateId: 'test-dd', dueDate: '2026-03-08' });
    await t.ctx.mail.deliverDue();
    t.clock.set('2026-03-08T07:30:00.000Z'); // 23:30 PST on the 7th
    assert.equal((await runSweep(t.ctx, t.clock.now())).date, '2026-03-07');
    t.clock.set('2026-03-09T07:30:00.000Z'); // 00:30 PDT on the 9th: the 8th had only 23 hours
    assert.equal((await runSweep(t.ctx, t.clock.now())).date, '2026-03-09');
    await t.ctx.mail.deliverDue();
    const subjects = smtp.messages.filter((m) => m.to.includes('dee@dst.example')).map((m) => m.subject);
    assert.deepEqual(subjects.filter((x) => !x.startsWith('Did you receive it')).slice(1), ['Reminder: "Test due diligence" is due tomorrow (2026-03-08)', 'Overdue: "Test due diligence" was due on 2026-03-08']);
  });

  test('When a colleague chose the daily digest, then their reminders come in one mail while another colleague gets one each', async () => {
    const legal = await makeUser(t, 'legal', { name: 'Lee Legal' });
    const digestUser = await makeUser(t, 'reviewer', { name: 'Dana Digest' });
    const agent = await signIn(t.app, digestUser.email);
    const settings = await agent.get('/account/reminders');
    assert.equal((await agent.post('/account/reminders').type('form').send({ _csrf: csrfFrom(settings.text), reminderDelivery: 'weekly' })).status, 400);
    assert.equal((await agent.post('/account/reminders').type('form').send({ _csrf: csrfFrom(settings.text), reminderDelivery: 'digest' })).status, 303);
    const v = await makeVendor(t, { status: 'active', businessOwnerId: legal.user.id });
    t.clock.set('2026-04-01T16:00:00.000Z');
    for (const title of ['No MFA on admin console', 'Backups unencrypted']) {
      await t.ctx.findings.create(userActor(digestUser), v.id, { title, severity: 'high', citation: '201 CMR 17.04(3)', description: null, ownerId: digestUser.user.id, remediatedBy: 'vendor', remediationPlan: null, dueDate: '2026-04-10' });
    }
    await t.ctx.findings.create(userActor(digestUser), v.id, { title: 'No training records', severity: 'low', citation: '201 CMR 17.04(8)', description: null, ownerId: legal.user.id, remediatedBy: 'vendor', remediationPlan: null, dueDate: '2026-04-10' });
    t.clock.set('2026-04-12T16:00:00.000Z');
    const before = smtp.messages.length;
    const result = await runSweep(t.ctx, t.clock.now());
    assert.equal(result.digests, 1);
    await t.ctx.mail.deliverDue();
    const mails = smtp.messages.slice(before);
    const toDigest = mails.filter((m) => m.to.includes(digestUser.email));
    assert.equal(toDigest.length, 1);
    assert.match(toDigest[0]!.subject, /2 reminders for 2026-04-12/);
    assert.match(toDigest[0]!.text, /No MFA on admin console/);
    assert.match(toDigest[0]!.text, /Backups unencrypted/);
    const toLegal = mails.filter((m) => m.to.includes(legal.email));
    assert.deepEqual(toLegal.map((m) => m.subject), ['Finding past its remediation date: ' + v.legalName + ', "No training records"']);
    assert.match(toLegal[0]!.text, /http:\/\/portal\.test\/findings\/\d+/);
  });

  test('When contracts near their notice deadline and amendments pass their target date, then legal and the owner hear of it', async () => {
    const legal = await makeUser(t, 'legal');
    const v = await makeVendor(t, { status: 'active' });
    t.clock.set('2026-05-01T16:00:00.000Z');
    await t.ctx.contracts.create(userActor(legal), v.id, { title: 'Payroll MSA', type: 'msa', status: 'active', effectiveOn: '2024-01-01', expiresOn: '2026-07-15', signedOn: null, autoRenews: true, noticeDays: 60, amendsId: null, notes: null });
    const before = smtp.messages.length;
    await runSweep(t.ctx, t.clock.now());
    await runSweep(t.ctx, t.clock.now());
    await t.ctx.mail.deliverDue();
    const mails = smtp.messages.slice(before).filter((m) => m.to.includes(legal.email));
    assert.deepEqual(mails.map((m) => m.subject), [`Notice deadline 2026-05-16: ${v.legalName}, "Payroll MSA"`]);
    assert.match(mails[0]!.text, /renews automatically unless notice is given/);
  });

  test('When a signed certification nears its last day, then a renewal is requested once, legal is told, and the vendor is reminded to sign', async () => {
    const legal = (await t.ctx.ds.getRepository(User).findOneByOrFail({ role: 'legal', active: true }));
    const v = await makeVendor(t, { status: 'active' });
    const contact = await t.ctx.vendors.addContact(systemActor('test'), v.id, { name: 'Cy Cert', email: 'cy@cert.example', isSecurityContact: true });
    t.clock.set('2025-06-01T16:00:00.000Z');
    const { certification, link } = await t.ctx.certifications.request(systemActor('test'), { vendorId: v.id, contactId: contact.id, templateId: 'annual-security', dueDate: '2025-06-30' });
    const base = new URL(link).pathname;
    const page = await request(t.app).get(base);
    const signed = await request(t.app).post(`${base}/sign`).type('form').send({ signerName: 'Cy Cert', signerTitle: 'CISO', signerCompany: v.legalName, signature: 'Cy Cert', attest: 'on', textSha256: certification.textSha256, _csrf: csrfFrom(page.text) });
    assert.equal(signed.status, 303);
    const expiresOn = (await t.ctx.certifications.get(certification.id)).expiresOn!;
    assert.ok(expiresOn > '2026-05-01');
    await t.ctx.mail.deliverDue();
    const before = smtp.messages.length;
    t.clock.set(`${addDays(expiresOn, -20)}T16:00:00.000Z`);
    await runSweep(t.ctx, t.clock.now());
    await runSweep(t.ctx, t.clock.now());
    t.clock.set(`${addDays(expiresOn, -5)}T16:00:00.000Z`);
    await runSweep(t.ctx, t.clock.now());
    await t.ctx.mail.deliverDue();
    const mails = smtp.messages.slice(before);
    const toVendor = mails.filter((m) => m.to.includes('cy@cert.example')).map((m) => m.subject);
    assert.equal(toVendor.length, 2, toVendor.join(' | '));
    assert.match(toVendor[1]!, /^Reminder: please sign/);
    // The reminder carries the renewal request's own link, the one its first email gave.
    const vendorMails = mails.filter((m) => m.to.includes('cy@cert.example'));
    const renewalLink = /http:\/\/portal\.test\/c\/[A-Za-z0-9_-]+/.exec(vendorMails[0]!.text)?.[0];
    assert.ok(renewalLink && renewalLink !== link, 'the renewal request has a link of its own');
    assert.ok(vendorMails[1]!.text.includes(renewalLink), 'and the reminder to sign carries it');
    assert.equal((await t.ctx.certifications.forVendor(v.id)).filter((c) => c.status === 'requested').length, 1, 'one renewal request, not one per sweep');
    const toLegal = mails.filter((m) => m.to.includes(legal.email) && m.subject.includes(v.legalName)).map((m) => m.subject);
    assert.equal(toLegal.length, 2, toLegal.join(' | '));
  });

  test('When a user subscribes to their calendar, then the feed lists their due dates as all-day events, and a revoked address stops working', async () => {
    const legal = await makeUser(t, 'legal');
    const agent = await signIn(t.app, legal.email);
    const page = await agent.get('/account/reminders');
    const created = await agent.post('/account/calendar').type('form').send({ _csrf: csrfFrom(page.text) });
    assert.equal(created.status, 201);
    const url = /(http:\/\/portal\.test\/calendar\/[A-Za-z0-9_-]+\.ics)/.exec(created.text)![1]!;
    const feedPath = new URL(url).pathname;
    const ics = await request(t.app).get(feedPath);
    assert.equal(ics.status, 200);
    assert.match(String(ics.headers['content-type']), /text\/calendar/);
    assert.match(ics.text, /BEGIN:VCALENDAR/);
    assert.match(ics.text, /DTSTART;VALUE=DATE:20260516/);
    assert.match(ics.text, /SUMMARY:Last day to give 60 days' notice: /);
    assert.doesNotMatch(ics.text, /No MFA on admin console/, 'legal\'s feed holds contract dates, not findings');
    const again = await agent.post('/account/calendar').type('form').send({ _csrf: csrfFrom(created.text) });
    assert.equal((await request(t.app).get(feedPath)).status, 404, 'a new address replaces the old one');
    const newPath = new URL(/(http:\/\/portal\.test\/calendar\/[A-Za-z0-9_-]+\.ics)/.exec(again.text)![1]!).pathname;
    assert.equal((await request(t.app).get(newPath)).status, 200);
    const settings = await agent.get('/account/reminders');
    assert.equal((await agent.post('/account/calendar/revoke').type('form').send({ _csrf: csrfFrom(settings.text) })).status, 303);
    assert.equal((await request(t.app).get(newPath)).status, 404);
  });

  test('When staff open the upcoming page and the admin reminder page, then they see the due dates and the log; only admins run the sweep', async () => {
    const viewer = await makeUser(t, 'viewer');
    const agent = await signIn(t.app, viewer.email);
    t.clock.set('2026-05-01T16:00:00.000Z');
    const upcomingPage = await agent.get('/reminders');
    assert.equal(upcomingPage.status, 200);
    assert.match(upcomingPage.text, /Payroll MSA/);
    assert.match(upcomingPage.text, /Last day to give 60 days&#39; notice/);
    const filtered = await agent.get('/reminders?type=finding');
    assert.doesNotMatch(filtered.text, /Payroll MSA/);
    assert.equal((await agent.get('/reminders?type=parking')).status, 400);
    assert.equal((await agent.get('/admin/reminders')).status, 403);
    assert.equal((await agent.post('/admin/reminders/run').type('form').send({ _csrf: csrfFrom(upcomingPage.text) })).status, 403);
    const admin = await makeUser(t, 'admin');
    const adminAgent = await signIn(t.app, admin.email);
    const adminPage = await adminAgent.get('/admin/reminders?preview=1');
    assert.equal(adminPage.status, 200);
    assert.match(adminPage.text, /Contract notice deadline/);
    assert.match(adminPage.text, /Last sweep/);
    const ran = await adminAgent.post('/admin/reminders/run').type('form').send({ _csrf: csrfFrom(adminPage.text) });
    assert.equal(ran.status, 303);
    assert.match((await adminAgent.get('/admin/reminders')).text, /Sweep for 2026-05-01 done/);
  });
});
