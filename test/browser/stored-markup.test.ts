import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/app';
import { browserSkip, launchBrowser, serve } from '../helpers/browser';
import { GOOD_PASSWORD, makeUser, signIn } from '../helpers/http';
import { PDF, saveSection } from '../helpers/portal';
import { routeTable } from '../helpers/routes';
import { fillPath, seedWorld, testTemplatesDir, type World } from '../helpers/world';

/** Markup that would run if any page put stored text into its HTML unescaped. */
const MARKUP = ['<script>window.__xss=1</script>', '"><img src=x onerror="window.__xss=1">', '<svg onload="window.__xss=1">', '</textarea><script>window.__xss=1</script>', '<%= 7*7 %>'].join(' ');
const mark = (label: string) => `${label} ${MARKUP}`;
/** For fields the forms hold to 100 characters (a clause's section reference). */
const SHORT_MARKUP = '§1 "><img src=x onerror="window.__xss=1"><svg onload="window.__xss=1">';

/** Listens, before any script of the page, for CSP violations: a blocked injected script is one. (Browser code, as text: the project compiles without the DOM types.) */
const RECORD_CSP = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample));`;

/** What on the open page shows that stored markup ran or became markup (browser code, as text). */
const FIND_INJECTED = `(() => {
  const out = [];
  if (window.__xss !== undefined) out.push('window.__xss was set');
  if (document.querySelector('img[src="x"], svg[onload]')) out.push('an injected img or svg element exists');
  for (const a of document.querySelectorAll('a[href]')) if (/^\\s*javascript:/i.test(a.getAttribute('href') || '')) out.push('a javascript: link ' + a.getAttribute('href'));
  for (const v of window.__csp || []) out.push('CSP violation: ' + v);
  return out;
})()`;

describe('stored markup in a browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;
  let w: World;

  before(async () => {
    t = await createTestApp({ templatesDir: testTemplatesDir() });
    ({ server, base } = await serve(t.app));
    browser = await launchBrowser();
    w = await seedWorld(t);
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  /** A JSON API call of the world's admin that must be accepted. */
  const api = async (method: 'post' | 'patch' | 'put', path: string, body: Record<string, unknown>) => {
    const res = await request(t.app)[method](`/api/v1${path}`).set('Authorization', `Bearer ${w.bearer}`).send(body);
    assert.ok(res.status < 300, `${method.toUpperCase()} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    return res.body as Record<string, unknown>;
  };

  /** Stores the markup in every field a person types, through the API, the portal and the services. */
  const storeMarkup = async () => {
    await api('patch', `/vendors/${w.vendorId}`, { legalName: mark('Legal'), tradingName: mark('Trading'), services: mark('Services'), notes: mark('Notes'), dataLocation: mark('Location'), website: 'javascript:window.__xss=1' });
    await api('post', `/vendors/${w.vendorId}/contacts`, { name: mark('Contact'), email: 'markup@vendor.example', role: mark('Role') });
    await t.ctx.vendors.addSubprocessor(w.actor, w.vendorId, { name: mark('Sub'), purpose: mark('Purpose'), location: mark('Where') });
    await api('patch', `/findings/${w.findingId}`, { title: mark('Finding'), description: mark('Description'), remediationPlan: mark('Plan') });
    await api('patch', `/contracts/${w.contractId}`, { title: mark('Contract'), notes: mark('Contract notes') });
    await t.ctx.contracts.reviewClauses(w.actor, w.contractId, [{ clauseId: 'CL-BRN', review: { status: 'partial', reference: SHORT_MARKUP, note: mark('Clause note') } }]);
    await api('patch', `/amendments/${w.amendmentId}`, { title: mark('Amendment') });
    await api('post', `/amendments/${w.amendmentId}/comments`, { body: mark('Amendment comment') });

    const qBase = `/q/${w.qToken}`;
    const saved = await saveSection(t.app, qBase, 'program', { wisp: 'yes', trained: '50' }, { files: [{ questionId: 'wisp_doc', name: `${mark('file')}.pdf`, content: PDF }] });
    assert.equal(saved.status, 303, `the section with a marked-up file name is saved: ${saved.status}`);
    const incidents = await saveSection(t.app, qBase, 'incidents', { incident: 'yes', incident_details: mark('Answer') });
    assert.equal(incidents.status, 303, `the long text answer is saved: ${incidents.status}`);

    const { link } = await t.ctx.certifications.resolveLink(w.cToken);
    await t.ctx.certifications.decline({ type: 'vendor_link', id: null, label: 'vendor', ip: null }, w.openCertificationId, link, { name: mark('Decliner'), reason: mark('Reason') }, { ip: null, userAgent: null });
    const signed = await t.ctx.certifications.request(w.actor, { vendorId: w.vendorId, contactId: w.contactId, templateId: 'annual-security' });
    const { link: upLink } = await t.ctx.certifications.resolveLink(signed.link.split('/').pop()!);
    await t.ctx.certifications.upload({ type: 'vendor_link', id: null, label: 'vendor', ip: null }, signed.certification.id, upLink, { signerName: mark('Signer'), signerTitle: mark('Title'), signerCompany: mark('Company') }, { originalName: `${mark('signed')}.pdf`, buffer: PDF }, { ip: null, userAgent: null });

    await makeUser(t, 'viewer', { name: mark('User') });
  };

  const injected = async (page: Page): Promise<string[]> => (await page.evaluate(FIND_INJECTED)) as string[];

  test('When markup is stored in every typed field, then no page shown to staff or to the vendor runs it or turns it into elements', async () => {
    await storeMarkup();
    const admin = await makeUser(t, 'admin');
    const staff = await browser.newContext();
    const vendor = await browser.newContext();
    for (const c of [staff, vendor]) await c.addInitScript({ content: RECORD_CSP });
    const login = await staff.newPage();
    await login.goto(`${base}/login`);
    await login.getByLabel('Email').fill(admin.email);
    await login.getByLabel('Password').fill(GOOD_PASSWORD);
    await login.getByRole('button', { name: 'Sign in' }).click();
    await login.waitForURL(`${base}/`);
    await login.close();

    // A signed-in agent reads each content type before the browser opens the page.
    const probe = await signIn(t.app, admin.email, GOOD_PASSWORD);
    const problems: string[] = [];
    const opened: string[] = [];
    const gets = routeTable(t.app).filter((r) => r.method === 'GET');
    assert.ok(gets.length > 40, `the route table lists the pages (${gets.length})`);
    for (const route of gets) {
      const url = fillPath(route.path, w);
      const isLink = route.path.startsWith('/q/') || route.path.startsWith('/c/');
      // Downloads (files, CSV, PDF, calendars) are not pages; the content type says which are.
      const head = await (isLink ? request(t.app) : probe).get(url);
      if (!/text\/html/.test(String(head.headers['content-type'])) || head.status >= 300) continue;
      const page = await (isLink ? vendor : staff).newPage();
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(`${base}${url}`, { waitUntil: 'load' });
      for (const p of [...(await injected(page)), ...dialogs.map((m) => `a dialog opened: ${m}`)]) problems.push(`${route.path} (${url}): ${p}`);
      // The markup is there, shown as the text it is (so the checks above looked at it).
      if (route.path === '/vendors/:id') assert.ok((await page.innerText('body')).includes('Legal <script>window.__xss=1</script>'), 'the vendor page shows the markup as text');
      opened.push(route.path);
      await page.close();
    }
    await staff.close();
    await vendor.close();
    for (const must of ['/vendors/:id', '/findings/:id', '/contracts/:id', '/questionnaires/:id/review', '/q/:token/review', '/c/:token', '/admin/users']) {
      assert.ok(opened.includes(must), `${must} was opened (opened: ${opened.join(', ')})`);
    }
    assert.deepEqual(problems, []);
  });

  test('When a vendor field starts like a formula, then the vendor list CSV holds it as plain text', async () => {
    for (const [i, name] of ['=HYPERLINK("http://evil.example","x")', '+cmd|calc', '-1+1', '@SUM(A1)'].entries()) {
      await api('post', '/vendors', { legalName: `${name} ${i}`, status: 'prospect' });
    }
    const csv = await w.admin.get('/vendors/export.csv');
    assert.equal(csv.status, 200);
    for (const start of ['=HYPERLINK', '+cmd', '-1+1', '@SUM']) {
      assert.ok(csv.text.includes(`'${start}`), `${start} is defused with a leading quote`);
      assert.doesNotMatch(csv.text, new RegExp(`(^|,|")${start.replace(/[+]/g, '\\+')}`, 'm'), `${start} never starts a cell`);
    }
  });
});
