import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { SessionRecord } from '../server/accounts/entities';
import { createApp } from '../server/app';
import { MINUTE } from '../server/clock';
import { createDataSource } from '../server/db/data-source';
import { DASHBOARD_MAX_AGE_MS } from '../server/reports/dashboard';
import { Vendor } from '../server/vendors/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { makeUser, makeVendor, signIn } from './helpers/http';

/** The one session row of a user (the test signs each user in once). */
async function sessionOf(t: TestApp, userId: number): Promise<SessionRecord> {
  return t.ctx.ds.getRepository(SessionRecord).findOneByOrFail({ userId });
}

describe('what a page costs', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    await makeUser(t, 'admin', { email: 'first-admin@example.com' });
  });
  after(() => t.close());

  describe('the session row', () => {
    test('When a signed-in user opens pages within a minute, then the session row is not rewritten; after more than a minute it is', async () => {
      const { user, email } = await makeUser(t, 'viewer');
      const agent = await signIn(t.app, email);
      // The first page with a form adds its CSRF token to the session: a real change, written.
      assert.equal((await agent.get('/')).status, 200);
      const written = (await sessionOf(t, user.id)).expiresAt.getTime();
      for (let i = 0; i < 3; i++) {
        t.clock.advance(15_000);
        assert.equal((await agent.get('/')).status, 200);
        assert.equal((await sessionOf(t, user.id)).expiresAt.getTime(), written, `request ${i + 1} wrote nothing`);
      }
      t.clock.advance(16_000);
      assert.equal((await agent.get('/')).status, 200);
      assert.equal((await sessionOf(t, user.id)).expiresAt.getTime(), t.clock.now().getTime() + 30 * MINUTE, 'moved by 61 s: written');
    });

    test('When several pages of one session load at once within the minute, then none of them rewrites the session row', async () => {
      const { user, email } = await makeUser(t, 'viewer');
      const agent = await signIn(t.app, email);
      assert.equal((await agent.get('/')).status, 200);
      const written = (await sessionOf(t, user.id)).expiresAt.getTime();
      t.clock.advance(30_000);
      const writes: string[] = [];
      const logger = t.ctx.ds.logger;
      const original = logger.logQuery.bind(logger);
      const counting = (q: string, ...rest: unknown[]) => {
        if (/^\s*(UPDATE|INSERT)\b[^]*"sessions"/i.test(q)) writes.push(q);
        return (original as (...a: unknown[]) => unknown)(q, ...rest);
      };
      (logger as { logQuery: typeof counting }).logQuery = counting;
      try {
        const pages = await Promise.all(Array.from({ length: 8 }, () => agent.get('/vendors')));
        assert.deepEqual(pages.map((p) => p.status), Array(8).fill(200));
      } finally {
        (logger as { logQuery: typeof original }).logQuery = original;
      }
      assert.deepEqual(writes, [], 'no page of the eight wrote the session');
      assert.equal((await sessionOf(t, user.id)).expiresAt.getTime(), written);
    });

    test('When a session skipped its writes, then it still ends 30 idle minutes after its last write and lives until then', async () => {
      const { user, email } = await makeUser(t, 'viewer');
      const agent = await signIn(t.app, email);
      const expiresAt = (await sessionOf(t, user.id)).expiresAt.getTime();
      t.clock.advance(40_000);
      assert.equal((await agent.get('/')).status, 200);
      t.clock.set(new Date(expiresAt - 1));
      assert.equal((await agent.get('/')).status, 200, 'alive until its expiry');
      t.clock.advance(30 * MINUTE + 1);
      const res = await agent.get('/');
      assert.equal(res.status, 303, 'ended after 30 idle minutes');
      assert.equal(res.headers.location, '/login?returnTo=%2F');
    });
  });

  describe('the dashboard figures', () => {
    test('When nothing changed, then the figures are shared rather than read again', async () => {
      const first = await t.ctx.dashboard.figures();
      const [a, b] = await Promise.all([t.ctx.dashboard.figures(), t.ctx.dashboard.figures()]);
      assert.equal(a, first);
      assert.equal(b, first);
    });

    test('When a vendor is added through the portal, then the next figures count it at once', async () => {
      const before = await t.ctx.dashboard.figures();
      await makeVendor(t, { status: 'active' });
      const after = await t.ctx.dashboard.figures();
      assert.equal(after.vendors.total, before.vendors.total + 1);
      assert.equal(after.vendors.byStatus.active, before.vendors.byStatus.active + 1);
    });

    test('When another process changes the data, then the figures show it within their maximum age', async () => {
      const before = await t.ctx.dashboard.figures();
      const other = createDataSource(t.config.database);
      await other.initialize();
      try {
        const v = await makeVendor(t, { status: 'prospect' });
        const counted = await t.ctx.dashboard.figures();
        await other.getRepository(Vendor).update({ id: v.id }, { status: 'onboarding' });
        assert.equal((await t.ctx.dashboard.figures()).vendors.byStatus.onboarding, counted.vendors.byStatus.onboarding, 'not seen yet');
        t.clock.advance(DASHBOARD_MAX_AGE_MS);
        const later = await t.ctx.dashboard.figures();
        assert.equal(later.vendors.byStatus.onboarding, before.vendors.byStatus.onboarding + 1);
      } finally {
        await other.destroy();
      }
    });
  });

  describe('the benchmark ceiling', () => {
    test('When the app is built for the portal, then the bare benchmark route does not exist; built for the benchmark, it answers without a database', async () => {
      assert.equal((await request(t.app).get('/__bench/bare')).status, 404);
      const bench = createApp(t.ctx, { benchBareRoute: true });
      const res = await request(bench).get('/__bench/bare');
      assert.equal(res.status, 200);
      assert.equal(res.text, 'ok');
    });
  });

  describe('memory at start', () => {
    test('When the portal starts, then PDFKit and the common-password list are not loaded; they are loaded by the first PDF and the first password chosen', () => {
      // A process of its own, so that what other tests in this file loaded does not count. It loads
      // what the portal's entry point loads (main.ts itself would start a server).
      const server = path.dirname(require.resolve('../server/main'));
      const script = `
        const loaded = (name) => Object.keys(require.cache).some((f) => f.includes('/node_modules/' + name + '/'));
        const server = ${JSON.stringify(server)};
        for (const m of ['app', 'config', 'context', 'db/data-source', 'logger', 'mail/delivery', 'reminders/sweep', 'scheduler']) require(server + '/' + m);
        const atStart = { pdfkit: loaded('pdfkit'), passwords: loaded('@zxcvbn-ts/language-common') };
        require(server + '/reports/pdf').newPdfDocument({});
        require(server + '/accounts/passwords').passwordProblem('correct horse battery', 'someone@example.com');
        process.stdout.write(JSON.stringify({ atStart, afterUse: { pdfkit: loaded('pdfkit'), passwords: loaded('@zxcvbn-ts/language-common') } }));`;
      const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as Record<string, Record<string, boolean>>;
      assert.deepEqual(out, { atStart: { pdfkit: false, passwords: false }, afterUse: { pdfkit: true, passwords: true } });
    });
  });
});
