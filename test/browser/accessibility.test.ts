import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, FileChooser, Page } from 'playwright-core';
import { In } from 'typeorm';
import { User } from '../../server/accounts/entities';
import { type Actor, systemActor } from '../../server/audit/service';
import { Certification } from '../../server/certifications/entities';
import { Contract, ContractAmendment } from '../../server/contracts/entities';
import { seedDemo } from '../../server/demo';
import { Finding } from '../../server/findings/entities';
import { OutboxMessage } from '../../server/mail/entities';
import { Questionnaire } from '../../server/questionnaires/entities';
import { runSweep } from '../../server/reminders/sweep';
import { ROOT_DIR } from '../../server/paths';
import { createTestApp, type TestApp } from '../helpers/app';
import { browserSkip, launchBrowser, serve } from '../helpers/browser';
import { GOOD_PASSWORD, makeUser, makeVendor } from '../helpers/http';
import { PDF, saveSection, submitAnswers } from '../helpers/portal';

/** Every question type the portal renders, in two sections, with required ones and a risk rule. */
const A11Y_TEMPLATE = `id: a11y-dd
version: 1
title: Security due diligence
description: Questions about how you protect the personal information you handle for us.
estimated_minutes: 10
sections:
  - id: program
    title: Program
    questions:
      - id: wisp
        text: Do you maintain a written information security program?
        type: yes_no
        required: true
        citations: ["201 CMR 17.03(1)"]
        risk:
          - when: { equals: "no" }
            severity: critical
            finding: No written information security program.
            weight: 10
      - id: scope
        text: Which of your services does the program cover?
        type: single_choice
        options:
          - { value: all, label: "All services that handle our data" }
          - { value: some, label: "Only some of them" }
        required: true
        citations: ["201 CMR 17.03(1)"]
      - id: owner
        text: Who is responsible for the program (name and title)?
        type: text
        required: true
        citations: ["201 CMR 17.03(2)(a)"]
      - id: trained
        text: What share of staff completed security training this year (percent)?
        type: number
        citations: ["201 CMR 17.04(8)"]
  - id: evidence
    title: Evidence
    questions:
      - id: reports
        text: Which independent reports can you share?
        type: multi_choice
        options:
          - { value: soc2, label: "SOC 2 Type II report" }
          - { value: iso, label: "ISO/IEC 27001 certificate" }
          - { value: pentest, label: "Penetration test summary" }
        citations: ["Due diligence DD-02"]
      - id: reviewed_on
        text: When did you last review your program?
        type: date
        required: true
        citations: ["201 CMR 17.03(2)(i)"]
      - id: incidents
        text: Describe any security incident in the last three years and its remediation, or write none.
        type: long_text
        required: true
        citations: ["201 CMR 17.03(2)(j)"]
      - id: wisp_doc
        text: Upload your written program or its table of contents.
        type: file
        required: true
        citations: ["201 CMR 17.03(1)"]
`;

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  targets: string[];
}

/**
 * Runs axe-core in the page and returns the serious and critical violations. The pages send
 * `script-src 'self'`, so a <script> tag with axe's source would be refused; `page.evaluate` runs
 * through the DevTools protocol in the page's main world, which the page's CSP does not govern, so
 * the product's CSP stays exactly as it is in production during the check.
 */
async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate<boolean>('typeof window.axe === "object"');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const all = await page.evaluate<AxeViolation[]>(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} }, resultTypes: ['violations'] })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, targets: v.nodes.map((n) => n.target.join(' ')) })))`);
  // A11Y_ALL=1 keeps the moderate and minor ones too, for a developer who wants the whole list.
  return all.filter((v) => process.env.A11Y_ALL || v.impact === 'serious' || v.impact === 'critical');
}

/** What a developer needs to fix a page: rule, impact, where, and the rule's help page. */
function describeViolations(label: string, url: string, found: AxeViolation[]): string {
  return `${label} (${url}) has ${found.length} serious or critical accessibility violation(s):\n${found
    .map((v) => `  - ${v.id} [${v.impact}] ${v.help}\n    targets: ${v.targets.slice(0, 8).join(' | ')}${v.targets.length > 8 ? ` (+${v.targets.length - 8} more)` : ''}\n    help: ${v.helpUrl}`)
    .join('\n')}`;
}

interface FocusState {
  tag: string;
  desc: string;
  focusVisible: boolean;
  indicator: boolean;
}

/** The focused element and whether it shows a focus indicator (an outline or a box shadow). */
function focusState(page: Page): Promise<FocusState> {
  return page.evaluate<FocusState>(`(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body', desc: 'body', focusVisible: false, indicator: false };
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow && cs.boxShadow !== 'none';
    const desc = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.getAttribute('href') ? '[href=' + el.getAttribute('href') + ']' : '') + (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '') + (el.getAttribute('value') && el.tagName !== 'INPUT' ? '[value=' + el.getAttribute('value') + ']' : '') + ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
    // A date field's calendar button is focused inside the field's own shadow tree: the field then
    // matches :focus-within but not :focus-visible, and its outline is what shows the focus.
    const inside = el.matches(':focus-within') && !el.matches(':focus');
    return { tag: el.tagName.toLowerCase(), desc, focusVisible: el.matches(':focus-visible') || inside, indicator: Boolean(outline || shadow) };
  })()`);
}

/**
 * Error messages that a screen reader would not announce with their field: every shown
 * `.error-message` must be named by an `aria-describedby` (of its control or fieldset) or be an
 * alert itself, and every field marked invalid must point at its description.
 */
function unlinkedErrors(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const out = [];
    const described = new Set();
    for (const el of document.querySelectorAll('[aria-describedby]')) for (const id of el.getAttribute('aria-describedby').split(/\\s+/)) if (id) described.add(id);
    for (const m of document.querySelectorAll('.error-message')) {
      if (m.closest('[role="alert"]') || (m.id && described.has(m.id))) continue;
      out.push('error message not linked to its field: "' + m.textContent.trim().slice(0, 60) + '"');
    }
    for (const el of document.querySelectorAll('[aria-invalid="true"]')) {
      const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
      if (!ids.some((id) => document.getElementById(id))) out.push('invalid field without a description: #' + el.id);
    }
    return out;
  })()`);
}

/** Whether the focused element matches a CSS selector. */
function focusMatches(page: Page, selector: string): Promise<boolean> {
  return page.evaluate<boolean>(`Boolean(document.activeElement && document.activeElement.matches(${JSON.stringify(selector)}))`);
}

/**
 * Presses Tab (or Shift+Tab) until the focused element matches `selector`, checking on every stop
 * that the focus can be seen; fails if the element is not reached within `max` presses.
 */
/**
 * Opens the focused file field's chooser with the keyboard: Space, and Enter should Space not open
 * it (a headless Chromium under load now and then drops the first activation of the dialog).
 */
async function openFileChooserByKeyboard(page: Page): Promise<FileChooser> {
  for (const key of ['Space', 'Enter', 'Space']) {
    const opened = page.waitForEvent('filechooser', { timeout: 5_000 }).catch(() => null);
    await page.keyboard.press(key);
    const chooser = await opened;
    if (chooser) return chooser;
  }
  throw new Error('the file field opened no chooser by keyboard (Space or Enter)');
}

async function tabTo(page: Page, selector: string, opts: { back?: boolean; max?: number } = {}): Promise<void> {
  const stops: string[] = [];
  for (let i = 0; i < (opts.max ?? 80); i++) {
    await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
    const f = await focusState(page);
    stops.push(f.desc);
    if (f.tag !== 'body') assert.ok(f.focusVisible && f.indicator, `the focus on ${f.desc} at ${page.url()} has no visible indicator`);
    if (await focusMatches(page, selector)) return;
  }
  assert.fail(`Tab never reached ${selector} on ${page.url()}; stops: ${stops.join(' -> ')}`);
}

/**
 * Tabs through every focus stop of the page, from the top until the focus wraps around, and checks
 * that each one shows a focus indicator. Returns the number of stops.
 */
async function walkFocus(page: Page): Promise<number> {
  const stops: string[] = [];
  let bodies = 0;
  for (let i = 0; i < 200; i++) {
    await page.keyboard.press('Tab');
    const f = await focusState(page);
    if (f.tag === 'body') {
      // Past the last stop the focus leaves the page once, then starts again at the top.
      bodies += 1;
      if (bodies > 1 && stops.length === 0) return 0;
      continue;
    }
    if (stops.length > 0 && f.desc === stops[0]) return stops.length;
    assert.ok(f.focusVisible && f.indicator, `the focus on ${f.desc} at ${page.url()} has no visible indicator`);
    stops.push(f.desc);
  }
  return assert.fail(`the focus never wrapped around on ${page.url()}: ${stops.slice(-5).join(' -> ')}`);
}

/** Presses a key that navigates, and waits for the new page. */
async function pressAndWait(page: Page, key: string, url: RegExp): Promise<void> {
  await Promise.all([page.waitForURL(url), page.keyboard.press(key)]);
}

describe('accessibility of the staff and vendor pages', { skip: browserSkip }, () => {
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
    const shipped = path.join(ROOT_DIR, 'questionnaires');
    for (const f of fs.readdirSync(shipped).filter((n) => n.endsWith('.yaml'))) fs.copyFileSync(path.join(shipped, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'a11y-dd.yaml'), A11Y_TEMPLATE);
    t = await createTestApp({ templatesDir: dir });
    ({ server, base } = await serve(t.app));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  /** Checks each page in turn and fails once, listing every violation of every page. */
  async function auditPages(page: Page, pages: { label: string; url?: string; act?: () => Promise<void> }[]): Promise<number> {
    const problems: string[] = [];
    for (const p of pages) {
      if (p.url) {
        const res = await page.goto(`${base}${p.url}`);
        assert.ok(res, `${p.label}: no response`);
        assert.ok(res.status() < 500, `${p.label} (${p.url}) answered ${res.status()}`);
      }
      if (p.act) await p.act();
      const title = await page.title();
      if (!/\S/.test(title.split(' · ')[0] ?? '')) problems.push(`${p.label} (${page.url()}) has no page title of its own: "${title}"`);
      const found = await seriousViolations(page);
      if (found.length) problems.push(describeViolations(p.label, page.url(), found));
      for (const e of await unlinkedErrors(page)) problems.push(`${p.label} (${page.url()}): ${e}`);
    }
    assert.equal(problems.length, 0, `\n${problems.join('\n\n')}`);
    return pages.length;
  }

  async function signInAs(page: Page, email: string): Promise<void> {
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);
  }

  test('When no one has signed up yet, then the first-run, setup and sign-in pages have no serious or critical violations', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const link = await t.ctx.accounts.issueSetupLink();
    assert.ok(link);
    const setupPath = `/setup?token=${new URL(link).searchParams.get('token')}`;
    const checked = await auditPages(page, [
      { label: 'first-run notice', url: '/login' },
      { label: 'setup form', url: setupPath },
      {
        label: 'setup form with errors',
        act: async () => {
          await page.getByLabel('Your name').fill('Grace Admin');
          await page.getByRole('button', { name: 'Create administrator' }).click();
          await page.waitForSelector('.error-summary');
        },
      },
    ]);
    assert.equal(checked, 3);

    // The check itself can fail: under the product's CSP, axe still sees a planted image without
    // alternative text and an unlabelled field, and the message names the rule, the element and the fix.
    await page.evaluate(`document.querySelector('main').insertAdjacentHTML('beforeend', '<img src="/assets/favicon.svg" id="planted-img"><input type="text" id="planted-input">')`);
    const planted = await seriousViolations(page);
    assert.deepEqual(planted.map((v) => v.id).filter((id) => id === 'image-alt' || id === 'label').sort(), ['image-alt', 'label']);
    const message = describeViolations('planted', page.url(), planted);
    assert.match(message, /image-alt \[critical\]/);
    assert.match(message, /targets: #planted-img/);
    assert.match(message, /help: https:\/\/dequeuniversity\.com\/rules\/axe\//);
    await context.close();
    await makeUser(t, 'admin', { email: 'ada@example.com', name: 'Ada Admin' });
    const signedOut = await browser.newContext();
    const login = await signedOut.newPage();
    await auditPages(login, [
      { label: 'sign-in', url: '/login' },
      {
        label: 'sign-in with a wrong password',
        act: async () => {
          await login.getByLabel('Email').fill('ada@example.com');
          await login.getByLabel('Password').fill('not the password at all');
          await login.getByRole('button', { name: 'Sign in' }).click();
          await login.waitForLoadState();
        },
      },
    ]);
    await signedOut.close();
  });

  /** A realistic portfolio: the demo data, plus questionnaires in review, findings and certifications made here. */
  let world: Promise<World> | undefined;
  interface World {
    admin: { email: string };
    staff: Actor;
    vendorId: number;
    contactId: number;
    freshId: number;
    submittedId: number;
    returnedId: number;
    links: { fresh: string; errors: string; clarify: string; submitted: string; revoked: string; replaced: string };
    certLinks: { errors: string };
    findingId: number;
  }
  function seeded(): Promise<World> {
    world ??= (async () => {
      const admin = await makeUser(t, 'admin', { email: 'ava@example.com', name: 'Ava Admin' });
      const procurement = await makeUser(t, 'procurement', { name: 'Pat Procurement' });
      await makeUser(t, 'reviewer', { name: 'Rae Reviewer' });
      await makeUser(t, 'legal', { name: 'Lee Legal' });
      await makeUser(t, 'viewer', { name: 'Vic Viewer' });
      await seedDemo(t.ctx);
      const staff: Actor = { type: 'user', id: procurement.user.id, label: procurement.email, ip: null };
      const vendor = await makeVendor(t, { legalName: 'Lakeside Payroll LLC', status: 'active', businessOwnerId: procurement.user.id });
      const contact = await t.ctx.vendors.addContact(systemActor('test'), vendor.id, { name: 'Rita Ruiz', email: 'rita@lakeside.example', isSecurityContact: true });
      const send = () => t.ctx.questionnaires.send(staff, { vendorId: vendor.id, contactId: contact.id, templateId: 'a11y-dd', dueDate: '2026-04-01' });
      const portalPath = (link: string) => new URL(link).pathname;
      const answerAll = async (p: string, wisp: 'yes' | 'no') => {
        assert.equal((await saveSection(t.app, p, 'program', { wisp, scope: 'some', owner: 'Rita Ruiz, CISO', trained: '88' })).status, 303);
        const evidence = await saveSection(t.app, p, 'evidence', { reports: ['soc2'], reviewed_on: '2026-01-15', incidents: 'None.' }, { files: [{ questionId: 'wisp_doc', name: 'wisp.pdf', content: PDF }] });
        assert.equal(evidence.status, 303);
        assert.equal((await submitAnswers(t.app, p)).status, 303);
      };

      const fresh = await send();
      const errors = await send();
      const submitted = await send();
      await answerAll(portalPath(submitted.link), 'no');
      const returned = await send();
      await answerAll(portalPath(returned.link), 'no');
      await t.ctx.reviews.saveMarks(staff, returned.questionnaire.id, [
        { questionId: 'wisp', mark: 'clarify', comment: 'Check with the vendor.', clarification: 'Is any part of your program written down?' },
        { questionId: 'scope', mark: 'finding', comment: 'Partial coverage.', clarification: null },
      ]);
      await t.ctx.reviews.requestClarification(staff, returned.questionnaire.id);
      const revoked = await send();
      await t.ctx.questionnaires.revoke(staff, revoked.questionnaire.id, 'Sent to the wrong contact.');
      const replaced = await send();
      await t.ctx.questionnaires.resend(staff, replaced.questionnaire.id);

      const finding = await t.ctx.findings.create(staff, vendor.id, {
        title: 'Backups are not encrypted',
        severity: 'high',
        citation: '201 CMR 17.04(3)',
        description: 'The vendor keeps nightly backups on unencrypted tapes.',
        ownerId: procurement.user.id,
        remediatedBy: 'vendor',
        remediationPlan: null,
        dueDate: '2026-05-01',
      });
      const cert = await t.ctx.certifications.request(staff, { vendorId: vendor.id, contactId: contact.id, templateId: 'annual-security', dueDate: '2026-04-01' });
      // A reminder sweep fills the reminder logs that the vendor and admin reminder pages show.
      assert.equal((await runSweep(t.ctx, t.clock.now())).ran, true);
      return {
        admin,
        staff,
        vendorId: vendor.id,
        contactId: contact.id,
        freshId: fresh.questionnaire.id,
        submittedId: submitted.questionnaire.id,
        returnedId: returned.questionnaire.id,
        links: {
          fresh: portalPath(fresh.link),
          errors: portalPath(errors.link),
          // A clarification round reopens the questionnaire on the link it was sent with.
          clarify: portalPath(returned.link),
          submitted: portalPath(submitted.link),
          revoked: portalPath(revoked.link),
          replaced: portalPath(replaced.link),
        },
        certLinks: { errors: new URL(cert.link).pathname },
        findingId: finding.id,
      };
    })();
    return world;
  }

  test('When staff open every main page, then none has a serious or critical violation', async () => {
    const w = await seeded();
    const repo = <T extends object>(e: new () => T) => t.ctx.ds.getRepository<T>(e);
    const contract = (await repo(Contract).find({ order: { id: 'ASC' }, take: 1 }))[0] ?? assert.fail('the demo has contracts');
    const amendment = (await repo(ContractAmendment).find({ order: { id: 'ASC' }, take: 1 }))[0] ?? assert.fail('the demo has amendments');
    const signed = (await repo(Certification).findOne({ where: { status: 'signed' } })) ?? assert.fail('the demo has a signed certification');
    const generated = (await repo(Finding).findOne({ where: { questionnaireId: w.submittedId } })) ?? assert.fail('the submission raised a finding');
    const outbox = (await repo(OutboxMessage).find({ order: { id: 'ASC' }, take: 1 }))[0] ?? assert.fail('mail was queued');
    const approved = (await repo(Questionnaire).findOne({ where: { status: In(['approved']) } })) ?? assert.fail('the demo has an approved questionnaire');
    const adminUser = await repo(User).findOneByOrFail({ email: w.admin.email });

    const context = await browser.newContext();
    const page = await context.newPage();
    await signInAs(page, w.admin.email);
    const checked = await auditPages(page, [
      { label: 'dashboard', url: '/' },
      { label: 'vendors list', url: '/vendors' },
      { label: 'vendors list, filtered', url: '/vendors?q=pay&tier=high&status=active' },
      { label: 'new vendor form', url: '/vendors/new' },
      {
        label: 'new vendor form with errors',
        act: async () => {
          await page.getByRole('button', { name: /Add vendor|Save|Create/ }).first().click();
          await page.waitForSelector('.error-summary');
        },
      },
      { label: 'vendor import', url: '/vendors/import' },
      {
        label: 'vendor import without a file (the error page)',
        act: async () => {
          await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Check the file' }).click()]);
          assert.match(await page.locator('main').innerText(), /Choose a CSV file/);
        },
      },
      { label: 'vendor detail', url: `/vendors/${w.vendorId}` },
      { label: 'vendor edit form', url: `/vendors/${w.vendorId}/edit` },
      { label: 'vendor reminders', url: `/vendors/${w.vendorId}/reminders` },
      { label: 'questionnaires list', url: '/questionnaires' },
      { label: 'send a questionnaire', url: `/vendors/${w.vendorId}/questionnaires/new` },
      { label: 'questionnaire detail, submitted', url: `/questionnaires/${w.submittedId}` },
      { label: 'questionnaire detail, returned', url: `/questionnaires/${w.returnedId}` },
      { label: 'questionnaire detail, approved', url: `/questionnaires/${approved.id}` },
      { label: 'review workspace', url: `/questionnaires/${w.submittedId}/review` },
      { label: 'questionnaire templates', url: '/admin/templates' },
      { label: 'questionnaire template', url: '/admin/templates/a11y-dd' },
      { label: 'findings list', url: '/findings' },
      { label: 'new finding form', url: `/vendors/${w.vendorId}/findings/new` },
      {
        label: 'new finding form with errors',
        act: async () => {
          await page.getByRole('button', { name: 'Record finding' }).click();
          await page.waitForSelector('.error-summary');
        },
      },
      { label: 'finding detail', url: `/findings/${w.findingId}` },
      { label: 'generated finding detail', url: `/findings/${generated.id}` },
      { label: 'contracts list', url: '/contracts' },
      { label: 'new contract form', url: `/vendors/${w.vendorId}/contracts/new` },
      {
        label: 'new contract form with errors',
        act: async () => {
          await page.getByRole('button', { name: 'Add contract' }).click();
          await page.waitForSelector('.error-summary');
        },
      },
      { label: 'not found page', url: '/vendors/99999999' },
      { label: 'contract detail and clause checklist', url: `/contracts/${contract.id}` },
      { label: 'coverage matrix', url: '/contracts/matrix' },
      { label: 'vendor clause coverage', url: `/vendors/${contract.vendorId}/coverage` },
      { label: 'amendments list', url: '/contracts/amendments' },
      { label: 'amendment detail', url: `/contracts/amendments/${amendment.id}` },
      { label: 'new amendment form', url: `/vendors/${contract.vendorId}/amendments/new` },
      { label: 'clause catalogue', url: '/admin/clauses' },
      { label: 'certifications list', url: '/certifications' },
      { label: 'certification templates', url: '/certifications/templates' },
      { label: 'request a certification', url: `/vendors/${w.vendorId}/certifications/new` },
      { label: 'certification detail', url: `/certifications/${signed.id}` },
      { label: 'printable certificate', url: `/certifications/${signed.id}/certificate` },
      { label: 'upcoming reminders', url: '/reminders' },
      { label: 'reports', url: '/reports' },
      { label: 'users', url: '/admin/users' },
      { label: 'new user form', url: '/admin/users/new' },
      { label: 'user edit form', url: `/admin/users/${adminUser.id}` },
      { label: 'audit log', url: '/admin/audit' },
      { label: 'outbox', url: '/admin/outbox' },
      { label: 'outbox message', url: `/admin/outbox/${outbox.id}` },
      { label: 'reminder settings', url: '/admin/reminders' },
      { label: 'account', url: '/account' },
      { label: 'change password', url: '/account/password' },
      { label: 'API tokens', url: '/account/tokens' },
      { label: 'my reminders', url: '/account/reminders' },
    ]);
    assert.ok(checked >= 45);
    await context.close();
  });

  test('When a vendor opens each portal page, then none has a serious or critical violation', async () => {
    const w = await seeded();
    const context = await browser.newContext();
    const page = await context.newPage();
    const q = w.links.errors;
    await auditPages(page, [
      { label: 'questionnaire welcome', url: q },
      { label: 'first section', url: `${q}/s/program` },
      {
        label: 'first section with a validation error',
        act: async () => {
          await page.getByRole('textbox', { name: /What share of staff/ }).fill('about ninety');
          await page.getByRole('button', { name: 'Save', exact: true }).click();
          await page.waitForSelector('.error-summary');
        },
      },
      {
        label: 'first section after a save',
        act: async () => {
          await page.getByRole('textbox', { name: /What share of staff/ }).fill('90');
          await page.getByRole('button', { name: 'Save', exact: true }).click();
          await page.waitForURL(/saved=1/);
        },
      },
      { label: 'second section', url: `${q}/s/evidence` },
      { label: 'check and submit with missing answers', url: `${q}/review` },
      {
        label: 'failed submit',
        act: async () => {
          await page.getByRole('button', { name: 'Submit answers' }).click();
          await page.waitForSelector('.error-summary');
        },
      },
      { label: 'clarification welcome', url: w.links.clarify },
      { label: 'clarification section', url: `${w.links.clarify}/s/program` },
      { label: 'thank-you page', url: `${w.links.submitted}/done` },
      { label: 'read-only copy', url: w.links.submitted },
      { label: 'withdrawn link', url: w.links.revoked },
      { label: 'replaced link', url: w.links.replaced },
      { label: 'unknown link', url: `/q/${'x'.repeat(43)}` },
      { label: 'certification signing page', url: w.certLinks.errors },
      {
        label: 'certification signing page with errors',
        act: async () => {
          await page.getByRole('button', { name: 'Sign the certification' }).click();
          await page.waitForSelector('.error-summary');
        },
      },
    ]);
    await context.close();
  });

  test('When a vendor uses only the keyboard, then they answer every question type, save, fix an error, submit and see the confirmation', async () => {
    const w = await seeded();
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const q = w.links.fresh;
    await page.goto(`${base}${q}`);

    // The first Tab reaches a skip link that is visible and moves focus to the main content.
    await page.keyboard.press('Tab');
    assert.ok(await focusMatches(page, 'a.skip-link[href="#main"]'), 'the first Tab stop is the skip link');
    const skip = await focusState(page);
    assert.ok(skip.indicator, 'the skip link shows its focus');
    assert.ok(await page.locator('.skip-link').isVisible(), 'the skip link appears when focused');
    await page.keyboard.press('Enter');
    assert.ok(await focusMatches(page, 'main#main'), 'the skip link moves focus to the main content');

    assert.ok((await walkFocus(page)) >= 4, 'the welcome page has links to tab through');
    await tabTo(page, 'a.button');
    await pressAndWait(page, 'Enter', /\/s\/program$/);
    assert.ok((await walkFocus(page)) >= 8, 'every field and button of the section is a focus stop');

    // Program: yes/no by arrow keys, a single choice by Space, text and a wrong number.
    await tabTo(page, 'input[name="a__wisp"]');
    await page.keyboard.press('ArrowRight'); // No
    await page.keyboard.press('ArrowLeft'); // Yes
    await tabTo(page, 'input[name="a__scope"]');
    await page.keyboard.press('ArrowDown'); // Only some
    await page.keyboard.press('ArrowUp'); // All services
    await tabTo(page, '#in-owner');
    await page.keyboard.type('Rita Ruiz, CISO');
    await tabTo(page, '#in-trained');
    await page.keyboard.type('ninety');
    await tabTo(page, 'button[value="save"]');
    await pressAndWait(page, 'Enter', /\/s\/program/);

    // The failed save: the error summary takes the focus, and the field names its error.
    await page.waitForSelector('.error-summary');
    assert.ok(await focusMatches(page, '.error-summary'), 'the error summary receives focus');
    assert.equal(await page.locator('.error-summary').getAttribute('role'), 'alert');
    const trained = page.locator('#in-trained');
    assert.equal(await trained.getAttribute('aria-invalid'), 'true');
    assert.match((await trained.getAttribute('aria-describedby')) ?? '', /\berr-trained\b/, 'the input is described by its error');
    assert.match(await page.locator('#err-trained').innerText(), /\S/);
    await tabTo(page, '.error-summary a[href="#q-trained"]');
    await page.keyboard.press('Enter');
    await tabTo(page, '#in-trained', { max: 3 });
    await page.keyboard.press('Control+A');
    await page.keyboard.type('96');
    await tabTo(page, 'button[value="save"]');
    await pressAndWait(page, 'Enter', /saved=1/);
    assert.match(await page.locator('.flash').innerText(), /Saved/);

    // Back up with Shift+Tab to check a saved answer survived, then go on.
    await tabTo(page, 'button[value="next"]');
    await tabTo(page, '#in-trained', { back: true });
    await tabTo(page, 'button[value="next"]');
    await pressAndWait(page, 'Enter', /\/s\/evidence$/);

    // Straight on to the check page with the evidence unanswered: the summary of missing answers
    // takes the focus, the submit is refused and says so, and its links lead to the questions.
    await tabTo(page, 'button[value="review"]');
    await pressAndWait(page, 'Enter', /\/review$/);
    assert.ok(await focusMatches(page, '.error-summary'), 'the list of missing answers receives focus');
    await tabTo(page, 'form.submit-form button[type="submit"]');
    await pressAndWait(page, 'Enter', /\/submit$/);
    assert.ok(await focusMatches(page, '.error-summary[role="alert"]'), 'the refused submit is announced and focused');
    assert.match(await page.locator('.error-summary').innerText(), /When did you last review your program\?/);
    await tabTo(page, '.error-summary a[href$="#q-reviewed_on"]');
    await pressAndWait(page, 'Enter', /\/s\/evidence#q-reviewed_on$/);

    // Evidence: a date typed, checkboxes by Space (reached with Shift+Tab), long text, and a file
    // chosen by keyboard.
    await tabTo(page, '#in-reviewed_on', { max: 2 });
    await page.keyboard.type('01152026');
    await tabTo(page, '#reports--pentest', { back: true });
    await page.keyboard.press('Space');
    await tabTo(page, '#reports--soc2', { back: true });
    await page.keyboard.press('Space');
    await tabTo(page, '#in-incidents');
    await page.keyboard.type('None in the last three years.');
    await tabTo(page, '#in-wisp_doc');
    const chooser = await openFileChooserByKeyboard(page);
    await chooser.setFiles({ name: 'wisp-contents.pdf', mimeType: 'application/pdf', buffer: PDF });
    await tabTo(page, 'button[value="save"]');
    await pressAndWait(page, 'Enter', /saved=1/);
    assert.match(await page.locator('.file-list').innerText(), /wisp-contents\.pdf/);
    await tabTo(page, 'button[value="review"]');
    await pressAndWait(page, 'Enter', /\/review$/);
    assert.equal(await page.locator('.error-summary').count(), 0, 'everything required is answered');
    await walkFocus(page);

    await tabTo(page, 'button[type="submit"]');
    await pressAndWait(page, 'Enter', /\/done$/);
    assert.match(await page.locator('h1').innerText(), /Thank you/);
    assert.match(await page.locator('[role="status"]').innerText(), /were submitted/);
    assert.ok((await walkFocus(page)) >= 2, 'the skip link and the read-only copy link');
    await context.close();

    const questionnaire = await t.ctx.ds.getRepository(Questionnaire).findOneByOrFail({ id: w.freshId, status: 'submitted' });
    const answers = (await t.ctx.questionnaires.content(questionnaire.id)).answers;
    assert.deepEqual(
      Object.fromEntries(['wisp', 'scope', 'owner', 'trained', 'reports', 'reviewed_on', 'incidents'].map((k) => [k, answers.get(k)])),
      { wisp: 'yes', scope: 'all', owner: 'Rita Ruiz, CISO', trained: 96, reports: ['soc2', 'pentest'], reviewed_on: '2026-01-15', incidents: 'None in the last three years.' },
    );
    assert.deepEqual((await t.ctx.questionnaires.files(questionnaire.id)).map((f) => f.fileName), ['wisp-contents.pdf']);
  });

  test('When a vendor signs a certification with only the keyboard, then a mistake is announced and the signature is recorded', async () => {
    const w = await seeded();
    const { certification, link } = await t.ctx.certifications.request(w.staff, { vendorId: w.vendorId, contactId: w.contactId, templateId: 'annual-security', dueDate: '2026-04-01' });
    const context: BrowserContext = await browser.newContext();
    const page = await context.newPage();
    await page.goto(link.replace(/^https?:\/\/[^/]+/, base));
    assert.match(await page.locator('.certification-text').innerText(), /Lakeside Payroll LLC/);

    await page.keyboard.press('Tab');
    assert.ok(await focusMatches(page, 'a.skip-link'), 'the first Tab stop is the skip link');
    // Every stop on the page, the paper and decline options included, shows its focus.
    assert.ok((await walkFocus(page)) >= 9);
    await tabTo(page, '#field-sign-signerName');
    await page.keyboard.type('Rita Ruiz');
    await tabTo(page, '#field-sign-signerTitle');
    await page.keyboard.type('Chief Information Security Officer');
    await tabTo(page, '#field-sign-signerCompany');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Lakeside Payroll LLC');
    await tabTo(page, '#field-sign-signature');
    await page.keyboard.type('Rita Ruiz');
    // Sign without ticking the attestation first.
    await tabTo(page, 'button[type="submit"]');
    await pressAndWait(page, 'Enter', /\/c\//);
    await page.waitForSelector('.error-summary');
    assert.ok(await focusMatches(page, '.error-summary'), 'the error summary receives focus');
    const attest = page.locator('#attest');
    assert.equal(await attest.getAttribute('aria-invalid'), 'true');
    const describedBy = (await attest.getAttribute('aria-describedby')) ?? '';
    assert.ok(describedBy, 'the attestation box is described by its error');
    assert.match(await page.locator(`#${describedBy.split(' ')[0]}`).innerText(), /Tick the box/);

    await tabTo(page, '#attest');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]');
    await pressAndWait(page, 'Enter', /\?done=signed$/);
    assert.match(await page.locator('.flash').innerText(), /The certification is signed/);
    await context.close();

    const signed = await t.ctx.certifications.get(certification.id);
    assert.equal(signed.status, 'signed');
    assert.equal(signed.signerName, 'Rita Ruiz');
    assert.equal(signed.signerTitle, 'Chief Information Security Officer');
    assert.equal(signed.signerCompany, 'Lakeside Payroll LLC');
  });
});
