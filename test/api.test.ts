import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Router } from 'express';
import request from 'supertest';
import { ApiToken } from '../server/accounts/api-token.entity';
import type { Role } from '../server/accounts/entities';
import { certificationApi } from '../server/certifications/api';
import { contractApi } from '../server/contracts/api';
import { findingApi } from '../server/findings/api';
import { questionnaireApi } from '../server/questionnaires/api';
import { reviewApi } from '../server/reviews/api';
import { vendorApi } from '../server/vendors/api';
import { MINUTE } from '../server/clock';
import { createTestApp, type TestApp } from './helpers/app';
import { csrfFrom, makeVendor, signedIn, submit } from './helpers/http';

describe('JSON API', () => {
  let t: TestApp;
  const tokens = {} as Record<Role, string>;
  let procurementUserId = 0;
  before(async () => {
    t = await createTestApp();
    for (const role of ['admin', 'procurement', 'viewer', 'legal'] as const) {
      const u = await signedIn(t, role);
      if (role === 'procurement') procurementUserId = u.user.id;
      const res = await submit(u.agent, '/account/tokens', '/account/tokens', { name: `${role} script` });
      assert.equal(res.status, 201);
      const m = /id="new-token" class="copy-field" type="text" readonly value="(ovs_[A-Za-z0-9_-]+)"/.exec(res.text);
      assert.ok(m, 'the new token is shown once');
      tokens[role] = m[1]!;
    }
  });
  after(() => t.close());

  const api = (role: Role) => ({
    get: (p: string) => request(t.app).get(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[role]}`),
    post: (p: string, body: object) => request(t.app).post(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[role]}`).send(body),
    patch: (p: string, body: object) => request(t.app).patch(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[role]}`).send(body),
    delete: (p: string) => request(t.app).delete(`/api/v1${p}`).set('Authorization', `Bearer ${tokens[role]}`),
  });

  test('When a token is created, then only its hash is stored and the page never shows it again', async () => {
    const rows = await t.ctx.ds.getRepository(ApiToken).find();
    assert.equal(rows.length, 4);
    for (const row of rows) assert.ok(!Object.values(tokens).includes(row.tokenHash) && row.tokenHash.length === 64);
    const admin = await signedIn(t, 'admin');
    const page = await admin.agent.get('/account/tokens');
    assert.doesNotMatch(page.text, /ovs_[A-Za-z0-9_-]{20,}/);
  });

  test('When no token, a wrong one, or a revoked one is sent, then the answer is 401 JSON', async () => {
    const none = await request(t.app).get('/api/v1/vendors');
    assert.equal(none.status, 401);
    assert.match(none.body.error.message, /Authorization: Bearer/);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    const wrong = await request(t.app).get('/api/v1/vendors').set('Authorization', 'Bearer ovs_nope');
    assert.equal(wrong.status, 401);
    const cookieOnly = await request(t.app).get('/api/v1/vendors').set('Accept', 'text/html');
    assert.equal(cookieOnly.status, 401);
    assert.match(String(cookieOnly.headers['content-type']), /json/);

    const u = await signedIn(t, 'viewer');
    const created = await submit(u.agent, '/account/tokens', '/account/tokens', { name: 'short-lived' });
    const token = /value="(ovs_[^"]+)"/.exec(created.text)![1]!;
    assert.equal((await request(t.app).get('/api/v1/vendors').set('Authorization', `Bearer ${token}`)).status, 200);
    const id = /action="\/account\/tokens\/(\d+)\/revoke"/.exec(created.text)![1];
    const revoke = await u.agent.post(`/account/tokens/${id}/revoke`).type('form').send({ _csrf: csrfFrom(created.text) });
    assert.equal(revoke.status, 303);
    assert.equal((await request(t.app).get('/api/v1/vendors').set('Authorization', `Bearer ${token}`)).status, 401);
  });

  test("When a token's user is deactivated, then the token stops working", async () => {
    const u = await signedIn(t, 'legal');
    const created = await submit(u.agent, '/account/tokens', '/account/tokens', { name: 'to be orphaned' });
    const token = /value="(ovs_[^"]+)"/.exec(created.text)![1]!;
    await t.ctx.accounts.setActive({ type: 'system', id: null, label: 'test', ip: null }, u.user.id, false);
    assert.equal((await request(t.app).get('/api/v1/vendors').set('Authorization', `Bearer ${token}`)).status, 401);
  });

  test('When a vendor is created with contacts, then it is returned with its derived tier and a Location', async () => {
    const res = await api('procurement').post('/vendors', {
      legalName: 'API Created Inc',
      piElements: ['ssn'],
      maResidents: 'yes',
      recordVolume: 'over_1m',
      accessModes: ['stores'],
      businessOwnerId: procurementUserId,
      contacts: [{ name: 'Ines Sec', email: 'ines@api.example', isSecurityContact: true }],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.headers.location, `/api/v1/vendors/${res.body.id}`);
    assert.equal(res.body.tier, 'critical');
    assert.equal(res.body.inScope, true);
    assert.equal(res.body.contacts[0].email, 'ines@api.example');
    const got = await api('viewer').get(`/vendors/${res.body.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.legalName, 'API Created Inc');
    assert.deepEqual(got.body.subprocessors, []);
  });

  test('When the body is bad, then the answer is 400 with each field and reason, and nothing is saved', async () => {
    const res = await api('procurement').post('/vendors', { legalName: '', piElements: ['dna'], colour: 'red', contacts: [{ name: 'x', email: 'nope', isSecurityContact: true }] });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.status, 400);
    assert.equal(res.body.error.fields.legalName, 'Legal name is required.');
    assert.match(res.body.error.fields.piElements, /must be among/);
    assert.equal(res.body.error.fields.colour, 'Unknown field.');
    assert.ok(res.body.error.fields.contacts);
    const malformed = await request(t.app).post('/api/v1/vendors').set('Authorization', `Bearer ${tokens.procurement}`).set('Content-Type', 'application/json').send('{"legalName":');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.message, 'The request could not be read.');
    const dup = await api('procurement').post('/vendors', { legalName: 'api created inc' });
    assert.equal(dup.status, 409);
    assert.match(dup.body.error.fields.legalName, /already exists/);
  });

  test('When a vendor is patched, then only the fields sent change', async () => {
    const v = await makeVendor(t, { legalName: 'Patch Me', notes: 'keep', maResidents: 'yes', piElements: ['ssn'], recordVolume: '1k_10k', accessModes: ['stores'] });
    const res = await api('procurement').patch(`/vendors/${v.id}`, { tradingName: 'PatchCo', recordVolume: 'over_1m' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.tradingName, 'PatchCo');
    assert.equal(res.body.notes, 'keep');
    assert.equal(res.body.maResidents, 'yes');
    assert.equal(res.body.tier, 'critical');
    const bad = await api('procurement').patch(`/vendors/${v.id}`, { accessModes: [] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.fields.accessModes, /Choose how the vendor handles/);
    const unknown = await api('procurement').patch(`/vendors/${v.id}`, { tier: 'low' });
    assert.equal(unknown.status, 400, 'the tier is derived, not set');
    assert.equal((await api('procurement').patch('/vendors/999999', { notes: 'x' })).status, 404);
  });

  test('When lists are asked for, then filters, paging and page size apply', async () => {
    for (let i = 0; i < 5; i++) await makeVendor(t, { legalName: `Paged ${i}`, status: 'active' });
    const res = await api('viewer').get('/vendors?q=paged&status=active&pageSize=2&page=2&sort=name');
    assert.equal(res.status, 200);
    assert.equal(res.body.total, 5);
    assert.equal(res.body.pageSize, 2);
    assert.deepEqual(res.body.data.map((v: { legalName: string }) => v.legalName), ['Paged 2', 'Paged 3']);
    const bad = await api('viewer').get('/vendors?pageSize=1000');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.fields.form ?? JSON.stringify(bad.body.error.fields), /pageSize must be from 1 to 200/);
  });

  test('When roles differ, then reading is open to all and writing to procurement and admin', async () => {
    const v = await makeVendor(t);
    assert.equal((await api('viewer').post('/vendors', { legalName: 'Viewer Made' })).status, 403);
    assert.equal((await api('legal').patch(`/vendors/${v.id}`, { notes: 'x' })).status, 403);
    assert.equal((await api('viewer').post(`/vendors/${v.id}/contacts`, { name: 'a', email: 'a@b.co' })).status, 403);
    assert.equal((await api('legal').get(`/vendors/${v.id}/contacts`)).status, 200);
    assert.equal((await api('admin').post(`/vendors/${v.id}/status`, { to: 'active', reason: 'x' })).status, 409);
    const moved = await api('admin').post(`/vendors/${v.id}/status`, { to: 'onboarding', reason: 'contract signed' });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.status, 'onboarding');
  });

  test('When contacts are managed through the API, then each change is applied and audited', async () => {
    const v = await makeVendor(t);
    const added = await api('procurement').post(`/vendors/${v.id}/contacts`, { name: 'First', email: 'first@c.example', isSecurityContact: true });
    assert.equal(added.status, 201);
    const second = await api('procurement').post(`/vendors/${v.id}/contacts`, { name: 'Second', email: 'second@c.example', isSecurityContact: true });
    const list = await api('viewer').get(`/vendors/${v.id}/contacts`);
    assert.deepEqual(list.body.data.filter((c: { isSecurityContact: boolean }) => c.isSecurityContact).map((c: { name: string }) => c.name), ['Second']);
    const patched = await api('procurement').patch(`/vendors/${v.id}/contacts/${added.body.id}`, { role: 'DPO' });
    assert.equal(patched.body.role, 'DPO');
    assert.equal((await api('procurement').delete(`/vendors/${v.id}/contacts/${second.body.id}`)).status, 204);
    assert.equal((await api('procurement').delete(`/vendors/${v.id}/contacts/${second.body.id}`)).status, 404);
    const other = await makeVendor(t);
    assert.equal((await api('procurement').patch(`/vendors/${other.id}/contacts/${added.body.id}`, { role: 'x' })).status, 404, "another vendor's contact is out of reach");
  });

  test('When a token is used, then its last use is recorded', async () => {
    t.clock.advance(2 * MINUTE);
    await api('viewer').get('/vendors');
    const row = (await t.ctx.ds.getRepository(ApiToken).find()).find((r) => r.name === 'viewer script')!;
    assert.equal(row.lastUsedAt?.toISOString(), t.clock.now().toISOString());
  });

  test('When the OpenAPI document is fetched, then every API route is described in it', async () => {
    const res = await request(t.app).get('/api/v1/openapi.json');
    assert.equal(res.status, 200);
    assert.equal(res.body.openapi, '3.1.0');
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(res.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) if (method !== 'parameters') documented.add(`${method.toUpperCase()} ${path}`);
    }
    const routes = [...routeTable(vendorApi(t.ctx)), ...routeTable(questionnaireApi(t.ctx)), ...routeTable(reviewApi(t.ctx)), ...routeTable(findingApi(t.ctx)), ...routeTable(contractApi(t.ctx)), ...routeTable(certificationApi(t.ctx))];
    assert.ok(routes.length >= 9);
    for (const route of routes) assert.ok(documented.has(route), `${route} is missing from openapi.json`);
    assert.ok(documented.has('GET /openapi.json'));
    assert.ok(res.body.paths['/vendors'].post.requestBody.content['application/json'].schema.properties.legalName);
  });
});

/** "METHOD /path/{param}" for every route of an Express router. */
function routeTable(router: Router): string[] {
  const out: string[] = [];
  for (const layer of router.stack as { route?: { path: string; methods: Record<string, boolean> } }[]) {
    if (!layer.route) continue;
    const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
    for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') out.push(`${method.toUpperCase()} ${path}`);
  }
  return out;
}
