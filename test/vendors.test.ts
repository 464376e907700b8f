import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { AuditEntry } from '../server/audit/entities';
import { Vendor, VendorContact } from '../server/vendors/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { type Agent, csrfFrom, makeUser, makeVendor, signedIn } from './helpers/http';

type Users = Record<'admin' | 'procurement' | 'legal' | 'reviewer' | 'viewer', Awaited<ReturnType<typeof signedIn>>>;

const profileForm = {
  legalName: 'Acme Payroll Services LLC',
  tradingName: 'Acme Payroll',
  website: 'acme-payroll.example',
  services: 'Payroll processing',
  status: 'prospect',
  piElements: ['ssn', 'financialAccount'],
  maResidents: 'yes',
  recordVolume: '10k_100k',
  accessModes: ['stores', 'processes'],
  dataLocation: 'AWS us-east-1',
};

async function post(agent: Agent, page: string, action: string, fields: Record<string, string | string[]>) {
  const _csrf = csrfFrom((await agent.get(page)).text);
  return agent.post(action).type('form').send({ ...fields, _csrf });
}

describe('vendors', () => {
  let t: TestApp;
  const u = {} as Users;
  before(async () => {
    t = await createTestApp();
    for (const role of ['admin', 'procurement', 'legal', 'reviewer', 'viewer'] as const) u[role] = await signedIn(t, role);
  });
  after(() => t.close());

  test('When procurement adds a vendor, then its page states the scope, tier and reasons, and it is audited', async () => {
    const res = await post(u.procurement.agent, '/vendors/new', '/vendors/new', { ...profileForm, businessOwnerId: String(u.procurement.user.id) });
    assert.equal(res.status, 303, res.text.slice(0, 500));
    const page = await u.viewer.agent.get(res.headers.location!);
    assert.equal(page.status, 200);
    assert.match(page.text, /A service provider under 201 CMR 17\.02: it has access to personal information \(Social Security numbers, financial account or payment card numbers\)/);
    assert.match(page.text, /<span class="tier tier-high">High<\/span>/);
    assert.match(page.text, /Stores or processes Social Security numbers, financial account or payment card numbers\./);
    assert.match(page.text, /every 12 months/);
    assert.match(page.text, /Never assessed/);
    const v = await t.ctx.ds.getRepository(Vendor).findOneByOrFail({ legalNameKey: 'acme payroll services llc' });
    assert.equal(v.website, 'https://acme-payroll.example');
    assert.deepEqual(v.piElements, ['ssn', 'financialAccount']);
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'vendor.created', entityId: String(v.id) });
    assert.equal(entry.actorLabel, u.procurement.email);
    assert.match(page.text, /vendor\.created/, 'the timeline shows the creation');
  });

  test('When the form is wrong, then each field gets its reason, what was typed stays, and nothing is saved', async () => {
    const before = await t.ctx.ds.getRepository(Vendor).count();
    const res = await post(u.procurement.agent, '/vendors/new', '/vendors/new', {
      legalName: '',
      tradingName: 'Kept Trading Name',
      website: 'not a website',
      piElements: ['ssn', 'biometric'],
      maResidents: 'yes',
      recordVolume: 'none',
      businessOwnerId: '999999',
      lastAssessedOn: '2026-02-30',
    });
    assert.equal(res.status, 400);
    for (const reason of ['Legal name is required.', 'Website must be a web address', 'Choose the approximate number of records', 'Choose how the vendor handles the personal information.', 'Last assessed on must be a date as YYYY-MM-DD.']) {
      assert.ok(res.text.includes(reason), reason);
    }
    assert.match(res.text, /value="Kept Trading Name"/);
    assert.match(res.text, /id="piElements-biometric" name="piElements" value="biometric" checked/);
    assert.equal(await t.ctx.ds.getRepository(Vendor).count(), before);

    const owner = await post(u.procurement.agent, '/vendors/new', '/vendors/new', { legalName: 'Owner Check Inc', businessOwnerId: '999999' });
    assert.equal(owner.status, 400);
    assert.match(owner.text, /Business owner must be an active user/);
  });

  test('When a legal name differs only in case or spacing, then it is refused as a duplicate', async () => {
    const v = await makeVendor(t, { legalName: 'Globex Corporation' });
    const res = await post(u.procurement.agent, '/vendors/new', '/vendors/new', { legalName: '  GLOBEX   corporation ' });
    assert.equal(res.status, 409);
    assert.match(res.text, /A vendor named &#34;Globex Corporation&#34; already exists/);
    const edit = await post(u.procurement.agent, `/vendors/${(await makeVendor(t)).id}/edit`, `/vendors/${(await makeVendor(t)).id}/edit`, { legalName: 'globex corporation' });
    assert.equal(edit.status, 409);
    assert.ok(v.id);
  });

  test('When the data profile changes, then the tier and cycle follow and the audit shows before and after', async () => {
    const v = await makeVendor(t, { piElements: ['driversLicense'], recordVolume: '1k_10k', accessModes: ['views'], lastAssessedOn: '2026-01-10' });
    assert.equal(v.tier, 'low');
    assert.equal(v.nextReassessmentOn, '2027-01-10', 'in scope: 12 months, not the low tier\'s 24');
    const res = await post(u.procurement.agent, `/vendors/${v.id}/edit`, `/vendors/${v.id}/edit`, {
      legalName: v.legalName,
      piElements: ['ssn'],
      maResidents: 'yes',
      recordVolume: 'over_1m',
      accessModes: ['stores'],
      lastAssessedOn: '2026-01-10',
    });
    assert.equal(res.status, 303);
    const after = await t.ctx.vendors.get(v.id);
    assert.equal(after.tier, 'critical');
    assert.equal(after.nextReassessmentOn, '2026-07-10');
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'vendor.updated', entityId: String(v.id) });
    assert.deepEqual(entry.changes!.tier, ['low', 'critical']);
    assert.deepEqual(entry.changes!.piElements, [['driversLicense'], ['ssn']]);

    const future = await post(u.procurement.agent, `/vendors/${v.id}/edit`, `/vendors/${v.id}/edit`, { legalName: v.legalName, lastAssessedOn: '2026-12-31' });
    assert.equal(future.status, 400);
    assert.match(future.text, /cannot be in the future/);
  });

  test('When a vendor moves through the pipeline, then only sensible moves with a reason are allowed', async () => {
    const v = await makeVendor(t);
    const bad = await post(u.procurement.agent, `/vendors/${v.id}`, `/vendors/${v.id}/status`, { to: 'active', reason: 'skip ahead' });
    assert.equal(bad.status, 409);
    assert.match(bad.text, /cannot move from Prospect to Active/);
    const noReason = await post(u.procurement.agent, `/vendors/${v.id}`, `/vendors/${v.id}/status`, { to: 'onboarding', reason: '' });
    assert.equal(noReason.status, 400);
    assert.match(noReason.text, /Reason is required/);
    for (const to of ['onboarding', 'active', 'offboarding', 'terminated']) {
      // An in-scope vendor is terminated only with a signed disposal certificate (this one has no
      // contact to ask for it, see test/certifications.test.ts), so the last move is an admin override.
      const terminating = to === 'terminated';
      const res = await post(terminating ? u.admin.agent : u.procurement.agent, `/vendors/${v.id}`, `/vendors/${v.id}/status`, { to, reason: `moving to ${to}`, ...(terminating ? { override: 'on' } : {}) });
      assert.equal(res.status, 303, `to ${to}`);
    }
    const entries = await t.ctx.ds.getRepository(AuditEntry).find({ where: { action: 'vendor.status_changed', entityId: String(v.id) }, order: { id: 'ASC' } });
    assert.deepEqual(entries.map((e) => e.changes!.status), [['prospect', 'onboarding'], ['onboarding', 'active'], ['active', 'offboarding'], ['offboarding', 'terminated']]);
    assert.equal(entries[1]!.details!.reason, 'moving to active');
    const page = await u.viewer.agent.get(`/vendors/${v.id}`);
    assert.match(page.text, /Reason: moving to terminated/);
  });

  test('When a reviewer overrides the tier, then it shows beside the computed tier with the justification', async () => {
    const v = await makeVendor(t, { lastAssessedOn: '2026-01-05' });
    assert.equal(v.tier, 'high');
    const denied = await post(u.procurement.agent, `/vendors/${v.id}`, `/vendors/${v.id}/tier`, { tier: 'low', reason: 'no' });
    assert.equal(denied.status, 403);
    const missing = await post(u.reviewer.agent, `/vendors/${v.id}`, `/vendors/${v.id}/tier`, { tier: 'critical', reason: '' });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /Justification is required/);
    const ok = await post(u.reviewer.agent, `/vendors/${v.id}`, `/vendors/${v.id}/tier`, { tier: 'critical', reason: 'Holds the payroll master file for all staff.' });
    assert.equal(ok.status, 303);
    const page = await u.viewer.agent.get(`/vendors/${v.id}`);
    assert.match(page.text, /<span class="tier tier-critical">Critical<\/span>/);
    assert.match(page.text, /computed from the data profile: <strong>High<\/strong>/);
    assert.match(page.text, /Holds the payroll master file for all staff\./);
    const after = await t.ctx.vendors.get(v.id);
    assert.equal(after.nextReassessmentOn, '2026-07-05', 'critical: every 6 months');
    const entry = await t.ctx.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'vendor.tier_overridden', entityId: String(v.id) });
    assert.equal(entry.details!.reason, 'Holds the payroll master file for all staff.');
    const cleared = await post(u.admin.agent, `/vendors/${v.id}`, `/vendors/${v.id}/tier/clear`, { reason: 'Master file moved in-house' });
    assert.equal(cleared.status, 303);
    assert.equal((await t.ctx.vendors.get(v.id)).tier, 'high');
  });

  test('When contacts are added, then one security contact is kept and changes reach the timeline', async () => {
    const v = await makeVendor(t);
    assert.equal((await post(u.procurement.agent, `/vendors/${v.id}`, `/vendors/${v.id}/contacts`, { name: 'Sam Sec', email: 'Sam@Vendor.example', role: 'CISO', isSecurityContact: 'on' })).status, 303);
    assert.equal((await post(u.procurement.agent, `/vendors/${v.id}`, `/vendors/${v.id}/contacts`, { name: 'Bo Billing', email: 'bo@vendor.example' })).status, 303);
    const invalid = await post(u.procurement.agent, `/vendors/${v.id}`, `/vendors/${v.id}/contacts`, { name: 'X', email: 'not-an-email' });
    assert.equal(invalid.status, 400);
    assert.match(invalid.text, /Email must be a valid email address/);
    assert.match(invalid.text, /<details class="inline-details" open>/, 'the form with the error is open');
    const contacts = await t.ctx.vendors.contacts(v.id);
    const bo = contacts.find((c) => c.name === 'Bo Billing')!;
    assert.equal((await post(u.procurement.agent, `/vendors/${v.id}`, `/vendors/${v.id}/contacts/${bo.id}/security`, {})).status, 303);
    const after = await t.ctx.ds.getRepository(VendorContact).find({ where: { vendorId: v.id } });
    assert.deepEqual(after.filter((c) => c.isSecurityContact).map((c) => c.name), ['Bo Billing']);
    assert.equal(after.find((c) => c.name === 'Sam Sec')!.email, 'sam@vendor.example');
    assert.equal((await post(u.procurement.agent, `/vendors/${v.id}`, `/vendors/${v.id}/subprocessors`, { name: 'CloudCo', purpose: 'Hosting', location: 'US' })).status, 303);
    const page = await u.legal.agent.get(`/vendors/${v.id}`);
    assert.match(page.text, /CloudCo<\/strong>: Hosting \(US\)/);
    assert.match(page.text, /vendor\.contact_updated/);
    assert.doesNotMatch(page.text, /Add a contact/, 'legal reads but cannot edit');
  });

  test('When roles other than procurement and admin post, then they are refused', async () => {
    const v = await makeVendor(t);
    for (const role of ['legal', 'viewer', 'reviewer'] as const) {
      const _csrf = csrfFrom((await u[role].agent.get(`/vendors/${v.id}`)).text);
      for (const path of ['/vendors/new', `/vendors/${v.id}/edit`, `/vendors/${v.id}/status`, `/vendors/${v.id}/contacts`, `/vendors/${v.id}/subprocessors`]) {
        const res = await u[role].agent.post(path).type('form').send({ _csrf, legalName: 'Hijack', to: 'onboarding', reason: 'x', name: 'n', email: 'e@x.co', purpose: 'p' });
        assert.equal(res.status, 403, `${role} POST ${path}`);
      }
      assert.equal((await u[role].agent.get('/vendors/new')).status, 403);
      assert.equal((await u[role].agent.get('/vendors')).status, 200);
    }
    assert.equal((await t.ctx.vendors.get(v.id)).status, 'prospect');
    assert.equal((await request(t.app).get('/vendors')).status, 303);
    assert.equal((await u.viewer.agent.get('/vendors/999999')).status, 404);
    assert.equal((await u.viewer.agent.get('/vendors/abc')).status, 404);
  });
});

describe('vendor list', () => {
  let t: TestApp;
  let viewer: Agent;
  let ownerId: number;
  before(async () => {
    t = await createTestApp();
    t.clock.set('2026-06-15T12:00:00Z');
    viewer = (await signedIn(t, 'viewer')).agent;
    ownerId = (await makeUser(t, 'procurement')).user.id;
    await makeVendor(t, { legalName: 'Alpha Overdue', lastAssessedOn: '2025-05-01', status: 'active', businessOwnerId: ownerId });
    await makeVendor(t, { legalName: 'Bravo Soon', lastAssessedOn: '2025-07-01', status: 'active' });
    await makeVendor(t, { legalName: 'Charlie Current', lastAssessedOn: '2026-03-01', status: 'onboarding' });
    await makeVendor(t, { legalName: 'Delta Never', piElements: ['ssn'], recordVolume: 'over_1m', accessModes: ['stores'] });
    await makeVendor(t, { legalName: 'Echo Out Of Scope', piElements: [], recordVolume: 'none', accessModes: [] });
    for (let i = 0; i < 55; i++) await makeVendor(t, { legalName: `Zulu Filler ${String(i).padStart(2, '0')}`, piElements: ['driversLicense'], accessModes: ['views'] });
  });
  after(() => t.close());

  const names = (html: string) => [...html.matchAll(/<td><a href="\/vendors\/\d+">([^<]+)<\/a>/g)].map((m) => m[1]);

  test('When filters are applied, then the list narrows and the URL keeps them', async () => {
    assert.deepEqual(names((await viewer.get('/vendors?assessment=overdue')).text), ['Alpha Overdue']);
    assert.deepEqual(names((await viewer.get('/vendors?assessment=due_soon')).text), ['Bravo Soon']);
    assert.deepEqual(names((await viewer.get('/vendors?assessment=current')).text), ['Charlie Current']);
    assert.deepEqual(names((await viewer.get('/vendors?scope=out')).text), ['Echo Out Of Scope']);
    assert.deepEqual(names((await viewer.get(`/vendors?owner=${ownerId}`)).text), ['Alpha Overdue']);
    assert.deepEqual(names((await viewer.get('/vendors?tier=critical')).text), ['Delta Never']);
    assert.deepEqual(names((await viewer.get('/vendors?status=active&sort=name&dir=desc')).text), ['Bravo Soon', 'Alpha Overdue']);
    assert.deepEqual(names((await viewer.get('/vendors?q=char')).text), ['Charlie Current']);
    assert.deepEqual(names((await viewer.get('/vendors?q=%25')).text), [], '% is literal');
    const never = await viewer.get('/vendors?assessment=never&tier=low');
    assert.match(never.text, /55 vendors match these filters/);
    assert.match(never.text, /href="\/vendors\?tier=low&amp;assessment=never&amp;page=2" rel="next"/);
  });

  test('When sorted by tier or next assessment, then the order follows', async () => {
    const byTier = names((await viewer.get('/vendors?sort=tier&q=a')).text);
    assert.equal(byTier[0], 'Delta Never');
    const byNext = names((await viewer.get('/vendors?sort=next')).text);
    assert.deepEqual(byNext.slice(0, 3), ['Alpha Overdue', 'Bravo Soon', 'Charlie Current']);
  });

  test('When sorted by next assessment over two pages, then dated vendors come first either way, the undated follow in the order added, and no vendor repeats or goes missing', async () => {
    const undated = ['Delta Never', 'Echo Out Of Scope', ...Array.from({ length: 55 }, (_, i) => `Zulu Filler ${String(i).padStart(2, '0')}`)];
    for (const [dir, dated] of [
      ['asc', ['Alpha Overdue', 'Bravo Soon', 'Charlie Current']],
      ['desc', ['Charlie Current', 'Bravo Soon', 'Alpha Overdue']],
    ] as const) {
      const first = names((await viewer.get(`/vendors?sort=next&dir=${dir}`)).text);
      const second = names((await viewer.get(`/vendors?sort=next&dir=${dir}&page=2`)).text);
      assert.equal(first.length, 50, dir);
      assert.deepEqual([...first, ...second], [...dated, ...undated], dir);
    }
    // A page that begins among the undated vendors, with a filter: 3 dated active vendors would not fill it.
    const active = names((await viewer.get('/vendors?sort=next&status=active&page=1')).text);
    assert.deepEqual(active, ['Alpha Overdue', 'Bravo Soon']);
  });

  test('When there are many vendors, then the list pages by 50', async () => {
    const first = await viewer.get('/vendors');
    assert.equal(names(first.text).length, 50);
    assert.match(first.text, /60 vendors\./);
    const last = await viewer.get('/vendors?page=2');
    assert.equal(names(last.text).length, 10);
    assert.match(last.text, /Page 2 of 2/);
  });

  test('When a filter value is nonsense, then the answer is 400 naming it', async () => {
    const res = await viewer.get('/vendors?tier=extreme');
    assert.equal(res.status, 400);
    assert.match(res.text, /tier must be one of/);
    assert.equal((await viewer.get('/vendors?sort=price')).status, 400);
    assert.equal((await viewer.get('/vendors?page=-1')).status, 400);
  });

  test('When no vendor matches, then the empty state says so', async () => {
    const res = await viewer.get('/vendors?q=nothing-like-this');
    assert.match(res.text, /No vendor matches these filters/);
  });

  test('When time passes, then a current vendor becomes due soon and then overdue', async () => {
    t.clock.set('2027-02-10T12:00:00Z');
    const early = (await signedIn(t, 'viewer')).agent;
    const soon = await early.get('/vendors?assessment=due_soon');
    assert.ok(names(soon.text).includes('Charlie Current'), `${soon.status} ${names(soon.text).join(',')}`);
    t.clock.set('2027-03-05T12:00:00Z');
    const agent = (await signedIn(t, 'viewer')).agent;
    assert.ok(names((await agent.get('/vendors?assessment=overdue')).text).includes('Charlie Current'));
    t.clock.set('2026-06-15T12:00:00Z');
  });
});

describe('reassessment intervals', () => {
  test('When REASSESSMENT_MONTHS changes, then stored dates are recomputed once', async () => {
    const t = await createTestApp({ env: { REASSESSMENT_MONTHS: 'critical=3' } });
    try {
      const v = await makeVendor(t, { piElements: ['ssn'], recordVolume: 'over_1m', accessModes: ['stores'], lastAssessedOn: '2026-01-01' });
      assert.equal(v.nextReassessmentOn, '2026-04-01');
      await t.ctx.ds.getRepository(Vendor).update({ id: v.id }, { nextReassessmentOn: '2099-01-01' });
      assert.equal(await t.ctx.vendors.applyIntervals(), 1, 'first start records the intervals and fixes the stale date');
      assert.equal((await t.ctx.vendors.get(v.id)).nextReassessmentOn, '2026-04-01');
      assert.equal(await t.ctx.vendors.applyIntervals(), 0, 'unchanged intervals: nothing to do');
    } finally {
      await t.close();
    }
  });
});
