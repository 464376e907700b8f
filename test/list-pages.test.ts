import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import ejs from 'ejs';
import { systemActor } from '../server/audit/service';
import { DAY } from '../server/clock';
import { escapeHtml } from '../server/html';
import { dashboardMarkup, type RenderView } from '../server/reports/dashboard-view';
import { createTestApp, type TestApp } from './helpers/app';
import { makeUser, makeVendor, signedIn, signIn } from './helpers/http';

/** The dashboard sections of a page, in page order, as [id, markup]. */
function sectionsOf(html: string): [string, string][] {
  return [...html.matchAll(/<section class="dash-section" aria-labelledby="(dash-\w+)">[\s\S]*?<\/section>/g)].map((m) => [m[1]!, m[0]]);
}

/** The number a dashboard chart's table links for one bar. */
function figure(html: string, name: string): number {
  const m = new RegExp(`data-figure="${name}">(\\d+)<`).exec(html);
  assert.ok(m, `the dashboard shows the figure ${name}`);
  return Number(m[1]);
}

describe('the findings list, the coverage matrix and the dashboard, drawn lean', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  describe('the dashboard', () => {
    test('When users of two roles open the dashboard, then each is greeted by name with the sections in their role order, and the sections are the same markup', async () => {
      await makeVendor(t, { status: 'active' });
      const admin = await signedIn(t, 'admin');
      const legal = await signedIn(t, 'legal');

      const [a, l] = await Promise.all([admin.agent.get('/'), legal.agent.get('/')]);

      assert.equal(a.status, 200);
      assert.equal(l.status, 200);
      assert.match(a.text, new RegExp(`Welcome, ${admin.user.name}\\.`));
      assert.match(l.text, new RegExp(`Welcome, ${legal.user.name}\\.`));
      assert.doesNotMatch(l.text, new RegExp(admin.user.name), 'nothing of the admin reaches the legal page');
      const adminSections = sectionsOf(a.text);
      const legalSections = sectionsOf(l.text);
      assert.deepEqual(adminSections.map(([id]) => id), ['dash-vendors', 'dash-questionnaires', 'dash-findings', 'dash-coverage', 'dash-certifications', 'dash-amendments']);
      assert.deepEqual(legalSections.map(([id]) => id), ['dash-coverage', 'dash-amendments', 'dash-certifications', 'dash-findings', 'dash-vendors', 'dash-questionnaires']);
      assert.deepEqual(new Map(legalSections), new Map(adminSections));
    });

    test('When the same figures are drawn again, then the sections are not rendered again; new figures are drawn anew', async () => {
      const views: string[] = [];
      const render: RenderView = async (view, locals) => {
        views.push(view);
        return `${view}:${Object.keys(locals).join(',')}`;
      };
      // A copy of the figures, which no page draws (the service shares its own object with pages).
      const figures = { ...(await t.ctx.dashboard.figures()) };

      const [first, second] = await Promise.all([dashboardMarkup(figures, render), dashboardMarkup(figures, render)]);
      const third = await dashboardMarkup(figures, render);

      assert.equal(second, first);
      assert.equal(third, first);
      assert.equal(views.length, 6, 'each section rendered once');
      assert.equal(first.sections.coverage, 'home/sections/coverage:d', 'a section sees its figures and nothing of the request');
      const renewed = await dashboardMarkup({ ...figures }, render);
      assert.notEqual(renewed, first);
      assert.equal(views.length, 12);
    });

    test('When a section could not be drawn, then the next request draws it again rather than keeping the failure', async () => {
      const figures = { ...(await t.ctx.dashboard.figures()) };
      let fail = true;
      const render: RenderView = async (view) => {
        if (fail) throw new Error('the view could not be read');
        return view;
      };

      await assert.rejects(dashboardMarkup(figures, render), /could not be read/);
      fail = false;
      const markup = await dashboardMarkup(figures, render);

      assert.equal(markup.sections.vendors, 'home/sections/vendors');
    });

    test('When a vendor is added through the portal, then the next dashboard counts it in its sections at once', async () => {
      const { agent } = await signedIn(t, 'viewer');
      const first = await agent.get('/');
      assert.equal(first.status, 200, first.text.slice(0, 2000));
      const before = figure(first.text, 'chart-status-Onboarding');

      await makeVendor(t, { status: 'onboarding' });
      const after = figure((await agent.get('/')).text, 'chart-status-Onboarding');

      assert.equal(after, before + 1);
    });
  });

  describe('the findings list', () => {
    test('When findings are listed, then the page shows each one newest first with its vendor and owner, and counts them with and without a filter', async () => {
      const reviewer = await makeUser(t, 'reviewer');
      const vendor = await makeVendor(t, { legalName: 'Quill & "Ink" <Ltd>' });
      const actor = systemActor('test');
      const older = await t.ctx.findings.create(actor, vendor.id, { title: 'Older finding', severity: 'low', citation: '201 CMR 17.04(1)', remediatedBy: 'vendor', ownerId: reviewer.user.id });
      t.clock.advance(DAY);
      const owner = { ...reviewer, agent: await signIn(t.app, reviewer.email) };
      const newer = await t.ctx.findings.create(actor, vendor.id, { title: 'Newer finding', severity: 'high', citation: '201 CMR 17.04(5)', remediatedBy: 'us' });
      await t.ctx.findings.transition(actor, older.id, 'closed');

      const all = await owner.agent.get(`/findings?vendor=${vendor.id}`);
      const open = await owner.agent.get(`/findings?vendor=${vendor.id}&status=open`);

      assert.equal(all.status, 200);
      assert.match(all.text, /2 findings match these filters\./);
      const rows = [...all.text.matchAll(/<tr>\s*<td><a href="\/findings\/(\d+)">([^<]*)<\/a>[\s\S]*?<\/tr>/g)];
      assert.deepEqual(rows.map((m) => Number(m[1])), [newer.id, older.id], 'newest first');
      assert.match(rows[0]![0], /Quill &amp; &#34;Ink&#34; &lt;Ltd&gt;/, 'the vendor named, escaped');
      assert.match(rows[0]![0], /<td>—<\/td>/, 'no owner');
      assert.match(rows[1]![0], new RegExp(`<td>${owner.user.name}</td>`), 'the owner named');
      assert.match(rows[1]![0], /data-age="1"/);
      assert.match(open.text, /1 finding matches these filters\./);
      assert.doesNotMatch(open.text, /Older finding/);
    });
  });

  describe('markup built in code', () => {
    test('When text is escaped for markup built in code, then it is escaped exactly as the views escape it', () => {
      for (const value of ['plain', `a & b < c > d "e" 'f'`, '&amp;', 42, '', null, undefined, '<script>alert(1)</script>']) {
        assert.equal(escapeHtml(value), ejs.render('<%= v %>', { v: value }), `escaping ${String(value)}`);
      }
    });
  });
});
