import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, type TestApp } from './helpers/app';
import { routeTable } from './helpers/routes';

describe('route table', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  test('When the app is built, then its route table lists mounted routes with their full paths', () => {
    const routes = routeTable(t.app).map((r) => `${r.method} ${r.path}`);
    for (const expected of ['GET /login', 'GET /vendors', 'GET /vendors/:id', 'GET /admin/users', 'GET /healthz']) {
      assert.ok(routes.includes(expected), `${expected} in ${routes.length} routes`);
    }
    assert.ok(routes.some((r) => r.startsWith('GET /q/')), 'the vendor link routes are listed');
    assert.ok(routes.some((r) => r.startsWith('POST /api/v1/')), 'the API routes are listed');
    assert.equal(new Set(routes).size, routes.length, 'no route listed twice');
  });
});
