import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/app';
import { browserSkip, freePort, launchBrowser, serve } from '../helpers/browser';
import { GOOD_PASSWORD, makeUser, makeVendor } from '../helpers/http';
import { saveSection, submitAnswers, TEST_TEMPLATE } from '../helpers/portal';
import { type SmtpListener, startSmtp } from '../helpers/smtp';

describe('a review in a browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let smtp: SmtpListener;
  let server: Server;
  let base: string;
  let browser: Browser;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
    fs.writeFileSync(path.join(dir, 'test-dd.yaml'), TEST_TEMPLATE);
    smtp = await startSmtp();
    const port = await freePort();
    t = await createTestApp({ smtp, templatesDir: dir, env: { BASE_URL: `http://127.0.0.1:${port}` } });
    ({ server, base } = await serve(t.app, port));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
    await smtp?.close();
  });

  async function signInAs(page: Page, email: string) {
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);
  }

  test('When a reviewer returns two questions, then the vendor answers them by link, the reviewer approves, and the next reassessment date appears', async () => {
    const owner = await makeUser(t, 'procurement');
    const rev = await makeUser(t, 'reviewer', { name: 'Rae Reviewer' });
    const vendor = await makeVendor(t, { legalName: 'Brightwater Benefits Inc', businessOwnerId: owner.user.id, lastAssessedOn: null });
    const contact = await t.ctx.vendors.addContact({ type: 'system', id: null, label: 'test', ip: null }, vendor.id, { name: 'Bo', email: 'bo@brightwater.example', isSecurityContact: true });
    const { questionnaire, link } = await t.ctx.questionnaires.send({ type: 'user', id: owner.user.id, label: owner.email, ip: null }, { vendorId: vendor.id, contactId: contact.id, templateId: 'test-dd', dueDate: '2026-04-01' });
    const portalPath = new URL(link).pathname;
    await saveSection(t.app, portalPath, 'program', { wisp: 'no', trained: '70' });
    await saveSection(t.app, portalPath, 'incidents', { incident: 'no' });
    assert.equal((await submitAnswers(t.app, portalPath)).status, 303);

    const staff = await browser.newContext();
    const page = await staff.newPage();
    await signInAs(page, rev.email);
    await page.goto(`${base}/questionnaires/${questionnaire.id}`);
    await page.getByRole('link', { name: 'Review the answers' }).click();
    await page.locator('#rq-wisp').getByLabel('Needs clarification').check();
    await page.locator('#rq-wisp').getByLabel('Question to the vendor').fill('Is any part of your program written down?');
    await page.locator('#rq-trained').getByLabel('Needs clarification').check();
    await page.locator('#rq-trained').getByLabel('Question to the vendor').fill('Please give this year\'s completion rate.');
    await page.getByRole('button', { name: 'Save and request clarification on marked questions' }).click();
    await page.waitForURL(`${base}/questionnaires/${questionnaire.id}`);
    assert.match(await page.locator('.flash').innerText(), /2 questions to clarify/);

    const mail = await smtp.waitFor((m) => m.to.includes('bo@brightwater.example') && m.subject.startsWith('Please clarify'));
    const vendorLink = /(http:\/\/127\.0\.0\.1:\d+\/q\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    const vendorContext = await browser.newContext();
    const vp = await vendorContext.newPage();
    await vp.goto(vendorLink);
    assert.match(await vp.locator('.notice').innerText(), /Please clarify 2 answers/);
    await vp.getByRole('link', { name: /Do you maintain a written information security program/ }).click();
    assert.match(await vp.locator('#q-wisp .clarify-request').innerText(), /Is any part of your program written down\?/);
    await vp.locator('#q-wisp').getByLabel('Yes').check();
    await vp.locator('#q-wisp_doc input[type="file"]').setInputFiles({ name: 'wisp.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
    await vp.getByRole('textbox', { name: /What share of staff/ }).fill('93');
    await vp.getByRole('button', { name: 'Save and continue' }).click();
    await vp.waitForURL(/\/s\/incidents$/);
    assert.equal(await vp.locator('#q-incident.question-locked').count(), 1, 'other answers are read-only');
    await vp.getByRole('button', { name: 'Save and check answers' }).click();
    await vp.getByRole('button', { name: 'Submit answers' }).click();
    await vp.waitForURL(/\/done$/);
    await vendorContext.close();

    await page.goto(`${base}/questionnaires/${questionnaire.id}/review`);
    assert.match(await page.locator('#rq-wisp').innerText(), /clarified/);
    await page.getByLabel('Approve').check();
    await page.getByLabel('Reason').fill('Program provided on clarification.');
    await page.getByRole('button', { name: 'Record decision' }).click();
    await page.waitForURL(`${base}/questionnaires/${questionnaire.id}`);
    await page.goto(`${base}/vendors/${vendor.id}`);
    const risk = await page.locator('#risk-title').locator('..').innerText();
    assert.match(risk, /Last assessed\s+2026-03-02/);
    assert.match(risk, /Next assessment\s+Current 2027-03-02/);
    await page.screenshot({ path: path.join(t.config.dataDir, 'vendor-after-review.png'), fullPage: true });
    if (process.env.SCREENSHOT_DIR) fs.copyFileSync(path.join(t.config.dataDir, 'vendor-after-review.png'), path.join(process.env.SCREENSHOT_DIR, 'vendor-after-review.png'));
    await staff.close();
  });
});
