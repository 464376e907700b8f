import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import type { Role } from '../server/accounts/entities';
import { AuditEntry } from '../server/audit/entities';
import { systemActor } from '../server/audit/service';
import { DAY } from '../server/clock';
import { Finding } from '../server/findings/entities';
import type { FindingInput } from '../server/findings/schema';
import { FindingService } from '../server/findings/service';
import { createTestApp, type TestApp } from './helpers/app';
import { type Agent, csrfFrom, makeUser, makeVendor, signedIn, submit } from './helpers/http';

type SignedIn = Awaited<ReturnType<typeof signedIn>>;
type Users = Record<'admin' | 'procurement' | 'legal' | 'reviewer' | 'reviewer2' | 'viewer', SignedIn>;

const manualForm = {
  title: 'No encryption of backups',
  severity: 'high',
  citation: '201 CMR 17.04(5)',
  description: 'Backups of payroll data are written to tape unencrypted.',
  remediatedBy: 'vendor',
  remediationPlan: '',
  dueDate: '',
};

const actorFor = (u: SignedIn) => ({ type: 'user' as const, id: u.user.id, label: u.email, ip: null });

/** A finding recorded through the service, as `by` would record it. */
async function makeFinding(t: TestApp, vendorId: number, by: SignedIn | null, overrides: Partial<FindingInput> = {}) {
  return t.ctx.findings.create(by ? actorFor(by) : systemActor('test'), vendorId, {
    title: 'A finding',
    severity: 'medium',
    citation: '201 CMR 17.03(2)(f)',
    remediatedBy: 'vendor',
    ...overrides,
  });
}

/** A finding as the questionnaire scoring would generate it: no creator. */
async function makeGeneratedFinding(t: TestApp, vendorId: number) {
  const now = t.clock.now();
  return t.ctx.ds.getRepository(Finding).save({
    vendorId,
    questionnaireId: null,
    questionId: 'encryption_at_rest',
    ruleKey: 'encryption_at_rest#0',
    source: 'generated' as const,
    title: 'Personal information is not encrypted at rest',
    severity: 'critical' as const,
    citation: '201 CMR 17.04(5)',
    description: null,
    answerText: 'No',
    ownerId: null,
    remediatedBy: 'vendor' as const,
    remediationPlan: null,
    dueDate: null,
    status: 'open' as const,
    riskAcceptedById: null,
    riskAcceptanceReason: null,
    riskAcceptanceExpiresOn: null,
    createdById: null,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
  });
}

describe('findings', () => {
  let t: TestApp;
  const u = {} as Users;
  before(async () => {
    t = await createTestApp();
    for (const role of ['admin', 'procurement', 'legal', 'reviewer', 'viewer'] as const) u[role] = await signedIn(t, role);
    u.reviewer2 = await signedIn(t, 'reviewer');
  });
  after(() => t.close());

  const audit = (action: string, entityType: string, entityId: number) =>
    t.ctx.ds.getRepository(AuditEntry).find({ where: { action, entityType, entityId: String(entityId) }, order: { id: 'ASC' } });

  test('When a reviewer records a finding by hand, then it is open, theirs, and audited on the finding and the vendor', async () => {
    const v = await makeVendor(t);
    const res = await submit(u.reviewer.agent, `/vendors/${v.id}/findings/new`, `/vendors/${v.id}/findings/new`, { ...manualForm, ownerId: String(u.admin.user.id) });
    assert.equal(res.status, 303, res.text.slice(0, 500));
    const id = Number(/^\/findings\/(\d+)$/.exec(res.headers.location!)![1]);
    const f = await t.ctx.findings.get(id);
    assert.equal(f.status, 'open');
    assert.equal(f.source, 'manual');
    assert.equal(f.createdById, u.reviewer.user.id);
    assert.equal(f.ownerId, u.admin.user.id);
    assert.equal(f.citation, '201 CMR 17.04(5)');
    assert.equal(f.remediationPlan, null, 'blank becomes null');
    const created = await audit('finding.created', 'finding', id);
    assert.equal(created.length, 1);
    assert.equal(created[0]!.actorLabel, u.reviewer.email);
    assert.equal((await audit('vendor.finding_added', 'vendor', v.id))[0]!.details!.findingId, id);

    const page = await u.viewer.agent.get(`/findings/${id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<span class="sev sev-high">High<\/span>/);
    assert.match(page.text, /Backups of payroll data are written to tape unencrypted\./);
    assert.match(page.text, /finding\.created/, 'the history shows the creation');
    assert.doesNotMatch(page.text, /action="\/findings\/\d+\/status"/, 'a viewer sees no forms');
    const vendorPage = await u.viewer.agent.get(`/vendors/${v.id}`);
    assert.match(vendorPage.text, /vendor\.finding_added/, "the vendor's timeline shows it");
  });

  test('When the form is wrong, then each field gets its reason, what was typed stays, and nothing is saved', async () => {
    const v = await makeVendor(t);
    const before = await t.ctx.ds.getRepository(Finding).count();
    const res = await submit(u.reviewer.agent, `/vendors/${v.id}/findings/new`, `/vendors/${v.id}/findings/new`, {
      title: '',
      severity: 'extreme',
      citation: '',
      description: 'Kept description',
      remediatedBy: 'them',
      dueDate: '2026-02-30',
    });
    assert.equal(res.status, 400);
    for (const reason of ['Title is required.', 'Severity must be one of: critical, high, medium, low.', 'Citation is required.', 'Who remediates must be', 'Due date must be a date as YYYY-MM-DD.']) {
      assert.ok(res.text.includes(reason), reason);
    }
    assert.match(res.text, />Kept description<\/textarea>/);
    assert.equal(await t.ctx.ds.getRepository(Finding).count(), before);

    const longTitle = await submit(u.reviewer.agent, `/vendors/${v.id}/findings/new`, `/vendors/${v.id}/findings/new`, { ...manualForm, title: 'x'.repeat(301) });
    assert.equal(longTitle.status, 400);
    assert.match(longTitle.text, /Title must be at most 300 characters\./);

    const gone = await makeUser(t, 'reviewer');
    await t.ctx.accounts.setActive(systemActor('test'), gone.user.id, false);
    const owner = await submit(u.reviewer.agent, `/vendors/${v.id}/findings/new`, `/vendors/${v.id}/findings/new`, { ...manualForm, ownerId: String(gone.user.id) });
    assert.equal(owner.status, 400);
    assert.match(owner.text, /Owner must be an active user\./);
    assert.equal(await t.ctx.ds.getRepository(Finding).count(), before);
    assert.equal((await u.reviewer.agent.get('/vendors/999999/findings/new')).status, 404);
  });

  test('When procurement, legal or a viewer post, then every finding action is refused, and reading is open to them', async () => {
    const v = await makeVendor(t);
    const f = await makeFinding(t, v.id, u.reviewer);
    for (const role of ['procurement', 'legal', 'viewer'] as const) {
      const page = await u[role].agent.get(`/findings/${f.id}`);
      assert.equal(page.status, 200, `${role} reads the finding`);
      assert.equal((await u[role].agent.get('/findings')).status, 200, `${role} reads the list`);
      const _csrf = csrfFrom(page.text);
      for (const path of [`/vendors/${v.id}/findings/new`, `/findings/${f.id}`, `/findings/${f.id}/status`, `/findings/${f.id}/accept-risk`]) {
        const res = await u[role].agent.post(path).type('form').send({ _csrf, ...manualForm, to: 'closed', reason: 'x', expiresOn: '2026-12-31' });
        assert.equal(res.status, 403, `${role} POST ${path}`);
      }
      assert.equal((await u[role].agent.get(`/vendors/${v.id}/findings/new`)).status, 403);
    }
    const after = await t.ctx.findings.get(f.id);
    assert.equal(after.status, 'open');
    assert.equal(after.title, 'A finding');
    assert.equal((await t.ctx.ds.getRepository(Finding).countBy({ vendorId: v.id })), 1);
    const anonymous = await request(t.app).get('/findings');
    assert.equal(anonymous.status, 303);
    assert.match(anonymous.headers.location!, /^\/login\?returnTo=/);
    assert.equal((await u.viewer.agent.get('/findings/999999')).status, 404);
    assert.equal((await u.viewer.agent.get('/findings/abc')).status, 404);
  });

  test('When a finding is edited, then only changed fields are audited with before and after', async () => {
    const v = await makeVendor(t);
    const f = await makeFinding(t, v.id, u.reviewer, { description: 'Before' });
    const res = await submit(u.admin.agent, `/findings/${f.id}`, `/findings/${f.id}`, { title: 'A finding', severity: 'critical', citation: '201 CMR 17.03(2)(f)', description: 'After', remediatedBy: 'us', ownerId: '' });
    assert.equal(res.status, 303, res.text.slice(0, 500));
    const after = await t.ctx.findings.get(f.id);
    assert.equal(after.severity, 'critical');
    assert.equal(after.remediatedBy, 'us');
    const [entry] = await audit('finding.updated', 'finding', f.id);
    assert.deepEqual(entry!.changes, { severity: ['medium', 'critical'], description: ['Before', 'After'], remediatedBy: ['vendor', 'us'] });
    const bad = await submit(u.admin.agent, `/findings/${f.id}`, `/findings/${f.id}`, { title: '', severity: 'low', citation: 'x', remediatedBy: 'us' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Title is required\./);
    assert.match(bad.text, /<details class="inline-details" open>/, 'the edit form with the error is open');
    assert.equal((await t.ctx.findings.get(f.id)).title, 'A finding');
  });

  test('When a finding moves through its statuses, then the allowed moves work and the others are refused with 409', async () => {
    const v = await makeVendor(t);
    const f = await makeFinding(t, v.id, u.reviewer, { remediationPlan: 'Turn on encryption', dueDate: '2026-06-30' });
    const move = (to: string, extra: Record<string, string> = {}) => submit(u.reviewer.agent, `/findings/${f.id}`, `/findings/${f.id}/status`, { to, reason: `to ${to}`, ...extra });
    for (const to of ['remediation_planned', 'resolved', 'open', 'closed', 'open', 'remediation_planned', 'open', 'resolved']) {
      const res = await move(to);
      assert.equal(res.status, 303, `to ${to}: ${res.status} ${res.text.slice(0, 300)}`);
    }
    const resolved = await t.ctx.findings.get(f.id);
    assert.equal(resolved.status, 'resolved');
    assert.equal(resolved.closedAt?.toISOString(), t.clock.now().toISOString());

    const refused = await move('closed');
    assert.equal(refused.status, 409);
    assert.match(refused.text, /A finding cannot move from Resolved to Closed; from Resolved it can move to Open\./);
    assert.equal((await t.ctx.findings.get(f.id)).status, 'resolved');
    await move('open');
    const direct = await move('risk_accepted');
    assert.equal(direct.status, 409);
    assert.match(direct.text, /it can move to Remediation planned, Resolved, Closed\. Risk is accepted with its own action/);
    const nonsense = await move('archived');
    assert.equal(nonsense.status, 400);
    assert.match(nonsense.text, /New status must be one of/);

    const reopened = await t.ctx.findings.get(f.id);
    assert.equal(reopened.status, 'open');
    assert.equal(reopened.closedAt, null, 'reopening clears the closing date');
    const entries = await t.ctx.ds.getRepository(AuditEntry).find({ where: { entityType: 'finding', entityId: String(f.id) }, order: { id: 'ASC' } });
    assert.deepEqual(
      entries.filter((e) => e.changes?.status).map((e) => e.changes!.status),
      [['open', 'remediation_planned'], ['remediation_planned', 'resolved'], ['resolved', 'open'], ['open', 'closed'], ['closed', 'open'], ['open', 'remediation_planned'], ['remediation_planned', 'open'], ['open', 'resolved'], ['resolved', 'open']],
    );
    assert.equal(entries.find((e) => e.action === 'finding.closed')!.details!.reason, 'to closed');
    const onVendor = await audit('vendor.finding_status_changed', 'vendor', v.id);
    assert.equal(onVendor.length, 9, 'every status change reaches the vendor timeline');
    assert.deepEqual([onVendor[0]!.details!.from, onVendor[0]!.details!.to], ['open', 'remediation_planned']);
  });

  test('When remediation is planned, then a plan and a due date are required', async () => {
    const v = await makeVendor(t);
    const f = await makeFinding(t, v.id, u.reviewer);
    const neither = await submit(u.reviewer.agent, `/findings/${f.id}`, `/findings/${f.id}/status`, { to: 'remediation_planned' });
    assert.equal(neither.status, 400);
    assert.match(neither.text, /A remediation plan is required when remediation is planned\./);
    assert.match(neither.text, /A due date is required when remediation is planned\./);
    const planOnly = await submit(u.reviewer.agent, `/findings/${f.id}`, `/findings/${f.id}/status`, { to: 'remediation_planned', remediationPlan: 'Patch the VPN' });
    assert.equal(planOnly.status, 400);
    assert.match(planOnly.text, />Patch the VPN<\/textarea>/, 'what was typed stays');
    assert.doesNotMatch(planOnly.text, /A remediation plan is required/);
    assert.equal((await t.ctx.findings.get(f.id)).status, 'open');

    const ok = await submit(u.reviewer.agent, `/findings/${f.id}`, `/findings/${f.id}/status`, { to: 'remediation_planned', remediationPlan: 'Patch the VPN', dueDate: '2026-04-30' });
    assert.equal(ok.status, 303);
    const planned = await t.ctx.findings.get(f.id);
    assert.equal(planned.status, 'remediation_planned');
    assert.equal(planned.remediationPlan, 'Patch the VPN');
    assert.equal(planned.dueDate, '2026-04-30');

    const cleared = await submit(u.reviewer.agent, `/findings/${f.id}`, `/findings/${f.id}`, { title: 'A finding', severity: 'medium', citation: 'c', remediatedBy: 'vendor', remediationPlan: 'Patch the VPN', dueDate: '' });
    assert.equal(cleared.status, 400, 'a planned finding keeps its due date');
    assert.equal((await t.ctx.findings.get(f.id)).dueDate, '2026-04-30');
  });

  test('When risk is accepted, then an expiry within 3 years is required and the approver cannot be the creator', async () => {
    const v = await makeVendor(t);
    const f = await makeFinding(t, v.id, u.reviewer, { severity: 'low' });
    const accept = (who: SignedIn, fields: Record<string, string>) => submit(who.agent, `/findings/${f.id}`, `/findings/${f.id}/accept-risk`, fields);

    const own = await u.reviewer.agent.get(`/findings/${f.id}`);
    assert.match(own.text, /You recorded this finding, so another reviewer or an administrator must accept its risk\./);
    assert.doesNotMatch(own.text, /action="\/findings\/\d+\/accept-risk"/);
    const byCreator = await submit(u.reviewer.agent, `/findings/${f.id}`, `/findings/${f.id}/accept-risk`, { reason: 'Low impact', expiresOn: '2026-12-31' });
    assert.equal(byCreator.status, 403);
    assert.match(byCreator.text, /You recorded this finding, so you cannot accept its risk/);

    const missing = await accept(u.reviewer2, { reason: 'Low impact', expiresOn: '' });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /Expiry date is required\./);
    const noReason = await accept(u.reviewer2, { reason: '', expiresOn: '2026-12-31' });
    assert.equal(noReason.status, 400);
    assert.match(noReason.text, /Reason is required\./);
    const today = await accept(u.reviewer2, { reason: 'Low impact', expiresOn: '2026-03-02' });
    assert.equal(today.status, 400);
    assert.match(today.text, /Expiry date must be after today \(2026-03-02\)\./);
    const tooLate = await accept(u.reviewer2, { reason: 'Low impact', expiresOn: '2029-03-03' });
    assert.equal(tooLate.status, 400);
    assert.match(tooLate.text, /at most 3 years ahead \(2029-03-02 at the latest\)/);
    assert.equal((await t.ctx.findings.get(f.id)).status, 'open', 'nothing changed by refused attempts');

    const ok = await accept(u.reviewer2, { reason: 'Compensating control: data is tokenised', expiresOn: '2029-03-02' });
    assert.equal(ok.status, 303, ok.text.slice(0, 500));
    const accepted = await t.ctx.findings.get(f.id);
    assert.equal(accepted.status, 'risk_accepted');
    assert.equal(accepted.riskAcceptedById, u.reviewer2.user.id);
    assert.equal(accepted.riskAcceptanceReason, 'Compensating control: data is tokenised');
    assert.equal(accepted.riskAcceptanceExpiresOn, '2029-03-02');
    const [entry] = await audit('finding.risk_accepted', 'finding', f.id);
    assert.equal(entry!.actorLabel, u.reviewer2.email);
    assert.deepEqual(entry!.details, { reason: 'Compensating control: data is tokenised', expiresOn: '2029-03-02' });
    assert.deepEqual(entry!.changes!.status, ['open', 'risk_accepted']);
    assert.ok((await audit('vendor.finding_status_changed', 'vendor', v.id)).some((e) => e.details!.to === 'risk_accepted'));
    const page = await u.viewer.agent.get(`/findings/${f.id}`);
    assert.match(page.text, new RegExp(`Risk accepted by</dt><dd>${u.reviewer2.user.name}`));

    const again = await accept(u.admin, { reason: 'x', expiresOn: '2026-12-31' });
    assert.equal(again.status, 409, 'already accepted');
    assert.match(again.text, /only for a finding that is Open or Remediation planned; this one is Risk accepted/);

    const reopened = await submit(u.admin.agent, `/findings/${f.id}`, `/findings/${f.id}/status`, { to: 'open', reason: 'Tokenisation dropped' });
    assert.equal(reopened.status, 303);
    const afterReopen = await t.ctx.findings.get(f.id);
    assert.equal(afterReopen.riskAcceptedById, null, 'reopening ends the acceptance');
    assert.equal(afterReopen.riskAcceptanceExpiresOn, null);
  });

  test('When a finding was generated, then any reviewer or admin may accept its risk', async () => {
    const v = await makeVendor(t);
    const g = await makeGeneratedFinding(t, v.id);
    const page = await u.reviewer.agent.get(`/findings/${g.id}`);
    assert.match(page.text, /Generated from/);
    assert.match(page.text, /The vendor's answer<\/dt><dd class="pre-line">No<\/dd>/);
    const res = await submit(u.admin.agent, `/findings/${g.id}`, `/findings/${g.id}/accept-risk`, { reason: 'Encryption arrives with the Q3 migration', expiresOn: '2026-09-30' });
    assert.equal(res.status, 303, res.text.slice(0, 500));
    assert.equal((await t.ctx.findings.get(g.id)).riskAcceptedById, u.admin.user.id);
  });
});

describe('findings and derived vendor figures', () => {
  test('When open findings may have changed, then the hook runs inside the same transaction, and only then', async () => {
    const t = await createTestApp();
    try {
      const calls: { vendorId: number; inTransaction: boolean }[] = [];
      const service = new FindingService({
        ds: t.ctx.ds,
        transact: t.ctx.transact,
        clock: t.clock,
        openFindingsChanged: async (m, _actor, vendorId) => {
          calls.push({ vendorId, inTransaction: m.queryRunner?.isTransactionActive === true });
        },
      });
      const v = await makeVendor(t);
      const [creator, approver] = [await makeUser(t, 'reviewer'), await makeUser(t, 'reviewer')];
      const as = (x: typeof creator) => ({ type: 'user' as const, id: x.user.id, label: x.email, ip: null });
      const f = await service.create(as(creator), v.id, { title: 'Hooked', severity: 'low', citation: 'c', remediatedBy: 'vendor' });
      await service.update(as(creator), f.id, { description: 'no effect on the rating' });
      assert.equal(calls.length, 1, 'an edit that leaves the severity alone does not call it');
      await service.update(as(creator), f.id, { severity: 'critical' });
      await service.acceptRisk(as(approver), f.id, 'ok', '2026-06-01');
      await service.transition(as(creator), f.id, 'closed');
      assert.equal(calls.length, 4);
      assert.ok(calls.every((c) => c.vendorId === v.id && c.inTransaction));
    } finally {
      await t.close();
    }
  });
});

describe('findings list', () => {
  let t: TestApp;
  let viewer: Agent;
  let reviewer: SignedIn;
  let acme: number;
  let globex: number;
  before(async () => {
    t = await createTestApp();
    reviewer = await signedIn(t, 'reviewer');
    const approver = await signedIn(t, 'reviewer');
    viewer = (await signedIn(t, 'viewer')).agent;
    acme = (await makeVendor(t, { legalName: 'Acme Payroll' })).id;
    globex = (await makeVendor(t, { legalName: 'Globex Hosting' })).id;
    const add = async (vendorId: number, title: string, over: Partial<FindingInput>) => {
      t.clock.advance(60_000);
      return makeFinding(t, vendorId, reviewer, { title, ...over });
    };
    await add(acme, 'Alpha critical open', { severity: 'critical', citation: '201 CMR 17.04(5)', dueDate: '2026-03-10' });
    const planned = await add(acme, 'Bravo planned', { severity: 'high', citation: '201 CMR 17.03(2)(c)', remediationPlan: 'Train staff', dueDate: '2026-04-30' });
    await t.ctx.findings.transition(actorFor(reviewer), planned.id, 'remediation_planned');
    const resolved = await add(globex, 'Charlie resolved', { severity: 'high', citation: 'M.G.L. c.93I §2', dueDate: '2026-03-03' });
    await t.ctx.findings.transition(actorFor(reviewer), resolved.id, 'resolved');
    const accepted = await add(globex, 'Delta accepted', { severity: 'medium', citation: 'Uptime 99.9% SLA' });
    await t.ctx.findings.acceptRisk(actorFor(approver), accepted.id, 'Tolerable', '2026-03-05');
    await add(globex, 'Echo low', { severity: 'low', citation: '201 CMR 17.04(8)' });
  });
  after(() => t.close());

  const titles = (html: string) => [...html.matchAll(/<td><a href="\/findings\/\d+">([^<]+)<\/a>/g)].map((m) => m[1]);

  test('When filters are applied, then the list narrows, newest first, and the URL keeps them', async () => {
    assert.deepEqual(titles((await viewer.get('/findings')).text), ['Echo low', 'Delta accepted', 'Charlie resolved', 'Bravo planned', 'Alpha critical open']);
    assert.deepEqual(titles((await viewer.get('/findings?severity=high')).text), ['Charlie resolved', 'Bravo planned']);
    assert.deepEqual(titles((await viewer.get('/findings?status=open')).text), ['Echo low', 'Bravo planned', 'Alpha critical open'], '"open" includes remediation planned');
    assert.deepEqual(titles((await viewer.get('/findings?status=remediation_planned')).text), ['Bravo planned']);
    assert.deepEqual(titles((await viewer.get('/findings?status=risk_accepted')).text), ['Delta accepted']);
    assert.deepEqual(titles((await viewer.get(`/findings?vendor=${acme}`)).text), ['Bravo planned', 'Alpha critical open']);
    assert.deepEqual(titles((await viewer.get(`/findings?vendor=${globex}&severity=high`)).text), ['Charlie resolved']);
    assert.deepEqual(titles((await viewer.get('/findings?citation=cmr%2017.04')).text), ['Echo low', 'Alpha critical open'], 'any case');
    assert.deepEqual(titles((await viewer.get('/findings?citation=%25')).text), ['Delta accepted'], '% is literal');
    assert.deepEqual(titles((await viewer.get('/findings?citation=17_04')).text), [], '_ is literal');
    const page = await viewer.get(`/findings?vendor=${acme}&severity=critical`);
    assert.match(page.text, /1 finding matches these filters/);
    assert.match(page.text, /Vendor: <a href="\/vendors\/\d+">Acme Payroll<\/a>/);
    assert.match(page.text, /<span class="sev sev-critical">Critical<\/span>/, 'severity as colour and text');
  });

  test('When time passes, then due dates and expired acceptances make findings overdue', async () => {
    assert.deepEqual(titles((await viewer.get('/findings?overdue=true')).text), [], 'nothing is overdue on 2026-03-02');
    t.clock.set('2026-03-11T12:00:00Z');
    const agent = (await signedIn(t, 'viewer')).agent;
    const overdue = await agent.get('/findings?overdue=true');
    assert.deepEqual(titles(overdue.text), ['Delta accepted', 'Alpha critical open'], 'a resolved finding past its due date is not overdue');
    assert.match(overdue.text, /<span class="tag tag-bad">Overdue<\/span>/);
    assert.deepEqual(titles((await agent.get('/findings?overdue=false')).text), ['Echo low', 'Charlie resolved', 'Bravo planned']);
    assert.deepEqual(titles((await agent.get('/findings?overdue=true&status=open')).text), ['Alpha critical open']);
    const api = await t.ctx.findings.list({ overdue: true }, 1, 50);
    assert.equal(api.total, 2);
  });

  test('When findings age, then the list shows their age in days by the clock', async () => {
    t.clock.set('2026-03-14T10:00:00Z');
    const agent = (await signedIn(t, 'viewer')).agent;
    const res = await agent.get('/findings?severity=critical');
    assert.match(res.text, /data-age="12">12 days</);
    const detail = await agent.get(res.text.match(/href="(\/findings\/\d+)"/)![1]!);
    assert.match(detail.text, /12 days ago/);
  });

  test('When there are many findings, then the list pages by 50', async () => {
    const filler = (await makeVendor(t, { legalName: 'Zulu Filler' })).id;
    for (let i = 0; i < 55; i++) await makeFinding(t, filler, reviewer, { title: `Filler ${i}`, severity: 'low' });
    const agent = (await signedIn(t, 'viewer')).agent;
    const first = await agent.get(`/findings?vendor=${filler}`);
    assert.equal(titles(first.text).length, 50);
    assert.match(first.text, /55 findings match these filters/);
    assert.match(first.text, new RegExp(`href="/findings\\?vendor=${filler}&amp;page=2" rel="next"`));
    const second = await agent.get(`/findings?vendor=${filler}&page=2`);
    assert.equal(titles(second.text).length, 5);
    assert.match(second.text, /Page 2 of 2/);
  });

  test('When a filter value is nonsense or nothing matches, then the answer says so', async () => {
    const agent = (await signedIn(t, 'viewer')).agent;
    const bad = await agent.get('/findings?severity=extreme');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /Severity must be one of/);
    assert.equal((await agent.get('/findings?overdue=maybe')).status, 400);
    assert.equal((await agent.get('/findings?vendor=abc')).status, 400);
    const none = await agent.get('/findings?citation=nothing-like-this');
    assert.equal(none.status, 200);
    assert.match(none.text, /No finding matches these filters/);
  });
});

describe('findings empty state', () => {
  test('When there are no findings, then the list explains where they come from', async () => {
    const t = await createTestApp();
    try {
      const { agent } = await signedIn(t, 'legal');
      const res = await agent.get('/findings');
      assert.equal(res.status, 200);
      assert.match(res.text, /No findings yet/);
      assert.match(res.text, /<a href="\/findings" aria-current="page">Findings<\/a>/, 'the navigation offers Findings to every role');
    } finally {
      await t.close();
    }
  });
});

describe('findings API', () => {
  let t: TestApp;
  const tokens = {} as Record<Role | 'reviewer2', string>;
  let vendorId = 0;
  before(async () => {
    t = await createTestApp();
    for (const role of ['admin', 'reviewer', 'reviewer2', 'viewer', 'procurement'] as const) {
      const u = await makeUser(t, role === 'reviewer2' ? 'reviewer' : role);
      tokens[role] = (await t.ctx.apiTokens.create({ type: 'user', id: u.user.id, label: u.email, ip: null }, `${role} script`)).token;
    }
    vendorId = (await makeVendor(t, { legalName: 'API Vendor' })).id;
  });
  after(() => t.close());

  const api = (who: keyof typeof tokens) => ({
    get: (p: string) => request(t.app).get(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[who]}`),
    post: (p: string, body: object) => request(t.app).post(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[who]}`).send(body),
    patch: (p: string, body: object) => request(t.app).patch(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[who]}`).send(body),
  });

  test('When a finding is created, then it is returned open with a Location, and a bad body names each field', async () => {
    const res = await api('reviewer').post(`/vendors/${vendorId}/findings`, { title: 'MFA missing for admins', severity: 'high', citation: '201 CMR 17.04(2)(b)', dueDate: '2026-05-01' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.headers.location, `/api/v1/findings/${res.body.id}`);
    assert.equal(res.body.status, 'open');
    assert.equal(res.body.remediatedBy, 'vendor');
    assert.equal(res.body.source, 'manual');
    assert.equal(res.body.ageDays, 0);
    assert.equal(res.body.overdue, false);

    const before = await t.ctx.ds.getRepository(Finding).count();
    const bad = await api('reviewer').post(`/vendors/${vendorId}/findings`, { title: '', severity: 'severe', colour: 'red', dueDate: 'tomorrow' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.fields.title, 'Title is required.');
    assert.match(bad.body.error.fields.severity, /Severity must be one of/);
    assert.equal(bad.body.error.fields.citation, 'Citation is required.');
    assert.equal(bad.body.error.fields.colour, 'Unknown field.');
    assert.match(bad.body.error.fields.dueDate, /YYYY-MM-DD/);
    assert.equal(await t.ctx.ds.getRepository(Finding).count(), before);
    assert.equal((await api('reviewer').post('/vendors/999999/findings', { title: 't', severity: 'low', citation: 'c' })).status, 404);
  });

  test('When a finding is patched, then only the fields sent change', async () => {
    const created = await api('reviewer').post(`/vendors/${vendorId}/findings`, { title: 'Old title', severity: 'low', citation: '201 CMR 17.04(8)', description: 'keep me', remediatedBy: 'us' });
    const res = await api('reviewer').patch(`/findings/${created.body.id}`, { title: 'New title', dueDate: '2026-06-01' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.title, 'New title');
    assert.equal(res.body.dueDate, '2026-06-01');
    assert.equal(res.body.description, 'keep me');
    assert.equal(res.body.remediatedBy, 'us', 'an unsent field with a default on create is not reset');
    assert.equal(res.body.severity, 'low');
    const [entry] = await t.ctx.ds.getRepository(AuditEntry).find({ where: { action: 'finding.updated', entityId: String(created.body.id) } });
    assert.deepEqual(Object.keys(entry!.changes!).sort(), ['dueDate', 'title']);
    const unknown = await api('reviewer').patch(`/findings/${created.body.id}`, { status: 'closed' });
    assert.equal(unknown.status, 400, 'status changes go through /status');
    assert.equal(unknown.body.error.fields.status, 'Unknown field.');
    assert.equal((await api('reviewer').patch('/findings/999999', { title: 'x' })).status, 404);
  });

  test('When statuses change through the API, then the same rules apply', async () => {
    const created = await api('reviewer').post(`/vendors/${vendorId}/findings`, { title: 'Status via API', severity: 'medium', citation: '201 CMR 17.03(2)(d)' });
    const id = created.body.id as number;
    const noPlan = await api('reviewer').post(`/findings/${id}/status`, { to: 'remediation_planned' });
    assert.equal(noPlan.status, 400);
    assert.ok(noPlan.body.error.fields.remediationPlan && noPlan.body.error.fields.dueDate);
    const planned = await api('admin').post(`/findings/${id}/status`, { to: 'remediation_planned', remediationPlan: 'Quarterly review', dueDate: '2026-04-01' });
    assert.equal(planned.status, 200, JSON.stringify(planned.body));
    assert.equal(planned.body.status, 'remediation_planned');
    const refused = await api('admin').post(`/findings/${id}/status`, { to: 'remediation_planned' });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /it can move to Resolved, Closed, Open/);
    const extra = await api('admin').post(`/findings/${id}/status`, { to: 'closed', who: 'me' });
    assert.equal(extra.status, 400);
    assert.equal(extra.body.error.fields.who, 'Unknown field.');

    const byCreator = await api('reviewer').post(`/findings/${id}/accept-risk`, { reason: 'fine', expiresOn: '2026-12-31' });
    assert.equal(byCreator.status, 403);
    assert.match(byCreator.body.error.message, /You recorded this finding/);
    const noExpiry = await api('reviewer2').post(`/findings/${id}/accept-risk`, { reason: 'fine' });
    assert.equal(noExpiry.status, 400);
    assert.equal(noExpiry.body.error.fields.expiresOn, 'Expiry date is required.');
    const accepted = await api('reviewer2').post(`/findings/${id}/accept-risk`, { reason: 'fine', expiresOn: '2026-12-31' });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.status, 'risk_accepted');
    assert.equal(accepted.body.riskAcceptanceExpiresOn, '2026-12-31');
  });

  test('When lists are asked for, then filters, paging and page size apply', async () => {
    const other = (await makeVendor(t, { legalName: 'Other API Vendor' })).id;
    for (let i = 0; i < 3; i++) {
      t.clock.advance(DAY);
      await api('reviewer').post(`/vendors/${other}/findings`, { title: `Listed ${i}`, severity: 'critical', citation: `201 CMR 17.04(${i + 1})` });
    }
    await api('reviewer').post(`/vendors/${other}/findings`, { title: 'Listed low', severity: 'low', citation: '201 CMR 17.04(1)' });
    const res = await api('viewer').get(`/findings?vendor=${other}&severity=critical&pageSize=2&page=1`);
    assert.equal(res.status, 200);
    assert.equal(res.body.total, 3);
    assert.equal(res.body.pageSize, 2);
    assert.deepEqual(res.body.data.map((f: { title: string }) => f.title), ['Listed 2', 'Listed 1']);
    assert.equal(res.body.data[1].ageDays, 1, 'age by the clock');
    const cited = await api('viewer').get(`/findings?vendor=${other}&citation=17.04(1)`);
    assert.deepEqual(cited.body.data.map((f: { title: string }) => f.title).sort(), ['Listed 0', 'Listed low']);
    const one = await api('procurement').get(`/findings/${res.body.data[0].id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.vendorId, other);
    assert.equal((await api('viewer').get('/findings?pageSize=1000')).status, 400);
    assert.equal((await api('viewer').get('/findings?status=archived')).status, 400);
  });

  test('When there is no token or the role only reads, then writes are refused', async () => {
    const none = await request(t.app).get('/api/v1/findings');
    assert.equal(none.status, 401);
    assert.equal((await request(t.app).post(`/api/v1/vendors/${vendorId}/findings`).send({ title: 't', severity: 'low', citation: 'c' })).status, 401);
    const f = await api('admin').post(`/vendors/${vendorId}/findings`, { title: 'Role check', severity: 'low', citation: 'c' });
    for (const who of ['viewer', 'procurement'] as const) {
      assert.equal((await api(who).post(`/vendors/${vendorId}/findings`, { title: 't', severity: 'low', citation: 'c' })).status, 403, `${who} create`);
      assert.equal((await api(who).patch(`/findings/${f.body.id}`, { title: 'hijack' })).status, 403, `${who} patch`);
      assert.equal((await api(who).post(`/findings/${f.body.id}/status`, { to: 'closed' })).status, 403, `${who} status`);
      assert.equal((await api(who).post(`/findings/${f.body.id}/accept-risk`, { reason: 'x', expiresOn: '2026-12-31' })).status, 403, `${who} accept`);
      assert.equal((await api(who).get(`/findings/${f.body.id}`)).status, 200, `${who} reads`);
    }
    const after = await t.ctx.findings.get(f.body.id);
    assert.equal(after.title, 'Role check');
    assert.equal(after.status, 'open');
  });
});
