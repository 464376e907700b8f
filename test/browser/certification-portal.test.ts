import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { systemActor } from '../../server/audit/service';
import { createTestApp, type TestApp } from '../helpers/app';
import { browserSkip, freePort, launchBrowser, serve } from '../helpers/browser';
import { makeUser, makeVendor } from '../helpers/http';
import { type SmtpListener, startSmtp } from '../helpers/smtp';

describe('signing a certification in a browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let smtp: SmtpListener;
  let server: Server;
  let browser: Browser;

  before(async () => {
    smtp = await startSmtp();
    // The portal must know its own address for the emailed link: pick the port, then build.
    const port = await freePort();
    t = await createTestApp({ smtp, env: { BASE_URL: `http://127.0.0.1:${port}` } });
    ({ server } = await serve(t.app, port));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
    await smtp?.close();
  });

  test('When the vendor opens the emailed link, then they read the text, correct a mistake, sign, and see the signed certificate', async () => {
    const legal = await makeUser(t, 'legal');
    const vendor = await makeVendor(t, { legalName: 'Harborview Payroll LLC', status: 'active' });
    const contact = await t.ctx.vendors.addContact(systemActor('test'), vendor.id, { name: 'Nora Quinn', email: 'nora@harborview.example', isSecurityContact: true });
    const { certification } = await t.ctx.certifications.request({ type: 'user', id: legal.user.id, label: legal.email, ip: null }, { vendorId: vendor.id, contactId: contact.id, templateId: 'annual-security', dueDate: '2026-04-01' });
    const mail = await smtp.waitFor((m) => m.to.includes('nora@harborview.example'));
    const link = /(http:\/\/127\.0\.0\.1:\d+\/c\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;

    const context = await browser.newContext({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) OversightBrowserTest' });
    const page = await context.newPage();
    await page.goto(link);
    assert.match(await page.locator('h1').innerText(), /Annual information security certification/);
    const text = await page.locator('.certification-text').innerText();
    assert.match(text, /Harborview Payroll LLC \("the Vendor"\)/);
    assert.match(text, /Flow-down to subprocessors/);
    assert.ok(text.includes(certification.textSha256), 'the page shows the fingerprint of the text');
    const form = page.locator('.sign-panel');
    assert.equal(await form.getByLabel('Company', { exact: true }).inputValue(), 'Harborview Payroll LLC', 'the company is filled in');

    // First attempt: the typed signature does not match and the attestation is not ticked.
    await form.getByLabel('Your full name', { exact: true }).fill('Nora Quinn');
    await form.getByLabel('Your title', { exact: true }).fill('Chief Information Security Officer');
    await form.getByLabel('Signature: type your full name again').fill('N. Quinn');
    await form.getByRole('button', { name: 'Sign the certification' }).click();
    await page.waitForSelector('.error-summary');
    assert.match(await page.locator('.error-summary').innerText(), /Tick the box to confirm/);
    assert.equal(await form.getByLabel('Your title', { exact: true }).inputValue(), 'Chief Information Security Officer', 'what was typed is kept');

    await form.getByLabel('Signature: type your full name again').fill('Nora Quinn');
    await form.getByLabel(/I have read the whole text above/).check();
    await form.getByRole('button', { name: 'Sign the certification' }).click();
    await page.waitForURL(/\?done=signed$/);
    assert.match(await page.locator('.flash').innerText(), /The certification is signed/);
    assert.match(await page.locator('main').innerText(), /Signed by Nora Quinn, Chief Information Security Officer, Harborview Payroll LLC/);
    assert.equal(await page.getByRole('button', { name: 'Sign the certification' }).count(), 0, 'no second signature');
    await page.screenshot({ path: path.join(t.config.dataDir, 'certification-signed.png'), fullPage: true });
    const download = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Download the signed certificate/ }).click()]).then(([d]) => d);
    const pdf = fs.readFileSync((await download.path())!);
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    await context.close();

    const signed = await t.ctx.certifications.get(certification.id);
    assert.equal(signed.status, 'signed');
    assert.equal(signed.signerName, 'Nora Quinn');
    assert.equal(signed.signedUserAgent, 'Mozilla/5.0 (X11; Linux x86_64) OversightBrowserTest');
    assert.equal(signed.signedIp, '127.0.0.1');
    assert.equal((await t.ctx.certifications.verify(null, signed.id)).ok, true);
    await smtp.waitFor((m) => m.to.includes(legal.email) && m.subject.includes('signed'));
    if (process.env.SCREENSHOT_DIR) fs.copyFileSync(path.join(t.config.dataDir, 'certification-signed.png'), path.join(process.env.SCREENSHOT_DIR, 'certification-signed.png'));
  });
});
