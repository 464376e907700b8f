import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { systemActor } from '../../server/audit/service';
import { createTestApp, type TestApp } from '../helpers/app';
import { browserSkip, freePort, launchBrowser, serve } from '../helpers/browser';
import { makeUser, makeVendor } from '../helpers/http';
import { PDF, TEST_TEMPLATE } from '../helpers/portal';
import { type SmtpListener, startSmtp } from '../helpers/smtp';

describe('the vendor portal in a browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let smtp: SmtpListener;
  let server: Server;
  let browser: Browser;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oversight-templates-'));
    fs.writeFileSync(path.join(dir, 'test-dd.yaml'), TEST_TEMPLATE);
    smtp = await startSmtp();
    // The portal must know its own address for the emailed link: pick the port, then build.
    const port = await freePort();
    t = await createTestApp({ smtp, templatesDir: dir, env: { BASE_URL: `http://127.0.0.1:${port}` } });
    ({ server } = await serve(t.app, port));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
    await smtp?.close();
  });

  test('When the vendor opens the emailed link, then they answer over two sittings, upload a PDF, submit and see a read-only copy', async () => {
    const owner = await makeUser(t, 'procurement');
    const vendor = await makeVendor(t, { legalName: 'Lakeside Payroll LLC', businessOwnerId: owner.user.id });
    const contact = await t.ctx.vendors.addContact(systemActor('test'), vendor.id, { name: 'Rita Ruiz', email: 'rita@lakeside.example', isSecurityContact: true });
    await t.ctx.questionnaires.send({ type: 'user', id: owner.user.id, label: owner.email, ip: null }, { vendorId: vendor.id, contactId: contact.id, templateId: 'test-dd', dueDate: '2026-04-01' });
    const mail = await smtp.waitFor((m) => m.to.includes('rita@lakeside.example'));
    const link = /(http:\/\/127\.0\.0\.1:\d+\/q\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    const pdfPath = path.join(t.config.dataDir, 'soc2-report.pdf');
    fs.writeFileSync(pdfPath, PDF);

    // First sitting: the program section, with the conditional upload appearing once "Yes" is chosen.
    const first = await browser.newContext();
    const page = await first.newPage();
    await page.goto(link);
    assert.match(await page.locator('h1').innerText(), /Test due diligence/);
    await page.getByRole('link', { name: 'Start' }).click();
    assert.equal(await page.locator('#q-wisp_doc').isHidden(), true);
    await page.getByLabel('Yes').first().check();
    assert.equal(await page.locator('#q-wisp_doc').isVisible(), true, 'the follow-up appears without a reload');
    await page.locator('input[type="file"]').setInputFiles(pdfPath);
    await page.getByLabel('What share of staff', { exact: false }).fill('96');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/saved=1/);
    assert.match(await page.locator('.flash').innerText(), /Saved/);
    assert.match(await page.locator('.file-list').innerText(), /soc2-report\.pdf/);
    await page.screenshot({ path: path.join(t.config.dataDir, 'portal-section.png'), fullPage: true });
    await first.close();

    // Second sitting: a fresh browser with no cookies; the answers are still there.
    const second = await browser.newContext();
    const page2 = await second.newPage();
    await page2.goto(link);
    await page2.getByRole('link', { name: 'Continue' }).click();
    assert.equal(await page2.getByLabel('What share of staff', { exact: false }).inputValue(), '96');
    await page2.getByRole('button', { name: 'Save and continue' }).click();
    await page2.waitForURL(/\/s\/incidents$/);
    await page2.getByRole('group', { name: /security incident/ }).getByLabel('No').check();
    await page2.getByLabel('SOC 2', { exact: false }).or(page2.getByLabel('soc2')).first().check();
    await page2.getByRole('button', { name: 'Save and check answers' }).click();
    await page2.waitForURL(/\/review$/);
    await page2.getByRole('button', { name: 'Submit answers' }).click();
    await page2.waitForURL(/\/done$/);
    assert.match(await page2.locator('h1').innerText(), /Thank you/);
    await page2.getByRole('link', { name: 'See a read-only copy of your answers' }).click();
    assert.match(await page2.locator('main').innerText(), /Submitted on 2026-03-02/);
    assert.match(await page2.locator('main').innerText(), /soc2-report\.pdf/);
    assert.equal(await page2.locator('main form').count(), 0, 'read-only');
    await page2.screenshot({ path: path.join(t.config.dataDir, 'portal-readonly.png'), fullPage: true });
    await second.close();

    const q = (await t.ctx.questionnaires.forVendor(vendor.id))[0]!;
    assert.equal(q.status, 'submitted');
    await smtp.waitFor((m) => m.to.includes('rita@lakeside.example') && m.subject.startsWith('Received'));
    if (process.env.SCREENSHOT_DIR) {
      for (const f of ['portal-section.png', 'portal-readonly.png']) fs.copyFileSync(path.join(t.config.dataDir, f), path.join(process.env.SCREENSHOT_DIR, f));
    }
  });
});
