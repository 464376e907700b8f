import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/app';
import { browserSkip, launchBrowser, serve } from '../helpers/browser';
import { GOOD_PASSWORD, makeUser, makeVendor } from '../helpers/http';

describe('vendors in a browser', { skip: browserSkip }, () => {
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;

  before(async () => {
    t = await createTestApp();
    ({ server, base } = await serve(t.app));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  test('When procurement adds a vendor, then it is found in the filtered list and its page opens', async () => {
    const { email } = await makeUser(t, 'procurement', { name: 'Pat Procurement' });
    for (let i = 0; i < 3; i++) await makeVendor(t, { legalName: `Other Vendor ${i}`, status: 'active' });
    const page = await browser.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);

    await page.getByRole('link', { name: 'Vendors', exact: true }).click();
    await page.getByRole('link', { name: 'Add a vendor' }).click();
    await page.getByLabel('Legal name').fill('Harbor Light Payroll Inc.');
    await page.getByLabel('Social Security numbers').check();
    await page.getByLabel('Yes', { exact: true }).check();
    await page.getByLabel('Approximate number of records').selectOption('over_1m');
    await page.getByLabel('Stores it').check();
    await page.getByLabel('Business owner', { exact: true }).selectOption({ label: 'Pat Procurement' });
    await page.getByRole('button', { name: 'Add vendor' }).click();

    await page.waitForURL(/\/vendors\/\d+$/);
    assert.equal(await page.locator('h1').innerText(), 'Harbor Light Payroll Inc.');
    assert.match(await page.locator('.scope-statement').innerText(), /In scope\. A service provider under 201 CMR 17\.02/);
    assert.equal(await page.locator('.tier-line .tier').innerText(), 'Critical');
    await page.screenshot({ path: `${t.config.dataDir}/vendor.png`, fullPage: true });

    await page.getByRole('link', { name: '← Vendors' }).click();
    await page.getByLabel('Tier').selectOption('critical');
    await page.getByLabel('Name contains').fill('harbor');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/tier=critical/);
    assert.match(page.url(), /q=harbor/);
    const rows = page.locator('table.vendor-table tbody tr');
    assert.equal(await rows.count(), 1);
    await page.screenshot({ path: `${t.config.dataDir}/vendor-list.png`, fullPage: true });
    await rows.first().getByRole('link').click();
    await page.waitForURL(/\/vendors\/\d+$/);
    assert.equal(await page.locator('h1').innerText(), 'Harbor Light Payroll Inc.');
    if (process.env.SCREENSHOT_DIR) {
      for (const f of ['vendor.png', 'vendor-list.png']) fs.copyFileSync(`${t.config.dataDir}/${f}`, `${process.env.SCREENSHOT_DIR}/${f}`);
    }
  });
});
