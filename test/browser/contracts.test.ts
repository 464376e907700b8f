import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ContractClause } from '../../server/contracts/entities';
import { createTestApp, type TestApp } from '../helpers/app';
import { browserSkip, launchBrowser, serve } from '../helpers/browser';
import { GOOD_PASSWORD, makeUser, makeVendor } from '../helpers/http';

const PDF = (label: string) => Buffer.from(`%PDF-1.4\n% ${label}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`, 'latin1');
const PRESENT = ['CL-SEC', 'CL-LAW', 'CL-AUDIT', 'CL-TERM', 'CL-INDEM', 'CL-CERT'];

describe('contracts in a browser', { skip: browserSkip }, () => {
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

  test('When legal records a contract missing CL-BRN and CL-DISP and walks one amendment for both to executed, then the vendor is fully covered', async () => {
    const legal = await makeUser(t, 'legal', { name: 'Lee Legal' });
    const vendor = await makeVendor(t, { legalName: 'Harborview Payroll LLC', status: 'active' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill(legal.email);
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);

    await page.getByRole('link', { name: 'Contracts', exact: true }).click();
    await page.waitForURL(`${base}/contracts`);
    await page.goto(`${base}/vendors/${vendor.id}`);
    assert.match(await page.locator('#contracts').innerText(), /No contract recorded\. As a service provider it must be bound by contract/);
    await page.locator('#contracts').getByRole('link', { name: 'Add a contract' }).click();
    await page.getByLabel('Title', { exact: true }).fill('Master Services Agreement');
    await page.getByLabel('Type').selectOption('msa');
    await page.getByLabel('Effective date').fill('2025-01-01');
    await page.getByLabel('Expiry date (optional)').fill('2028-12-31');
    await page.getByLabel('Signed document (optional)').setInputFiles({ name: 'msa-signed.pdf', mimeType: 'application/pdf', buffer: PDF('signed MSA') });
    await page.getByRole('button', { name: 'Add contract' }).click();
    await page.waitForURL(/\/contracts\/\d+$/);
    const contractId = Number(/\/contracts\/(\d+)$/.exec(page.url())![1]);
    assert.match(await page.locator('#document').innerText(), /msa-signed\.pdf/);

    for (const [i, id] of PRESENT.entries()) {
      await page.getByLabel(`Status of ${id}`).selectOption('present');
      await page.getByLabel(`Section reference for ${id}`).fill(`§${i + 2}.1`);
    }
    await page.getByLabel('Status of CL-BRN').selectOption('missing');
    await page.getByLabel('Status of CL-DISP').selectOption('missing');
    await page.getByRole('button', { name: 'Save the checklist' }).click();
    await page.waitForURL(`${base}/contracts/${contractId}#clauses`);
    assert.match(await page.locator('.flash').innerText(), /8 clauses updated\./);
    assert.equal(await t.ctx.ds.getRepository(ContractClause).countBy({ contractId, status: 'missing' }), 2);

    await page.getByRole('link', { name: 'Open an amendment request for the 2 missing or partial clauses' }).click();
    await page.waitForURL(/\/amendments\/new\?/);
    assert.equal(await page.getByLabel(/CL-BRN Breach notification in “Master Services Agreement”/).isChecked(), true);
    assert.equal(await page.getByLabel(/CL-DISP Secure return or disposal in “Master Services Agreement”/).isChecked(), true);
    await page.getByRole('button', { name: 'Open the amendment request' }).click();
    await page.waitForURL(/\/contracts\/amendments\/\d+$/);
    assert.match(await page.locator('h1').innerText(), /Add CL-DISP, CL-BRN to Master Services Agreement/);
    assert.match(await page.locator('.summary').innerText(), /Owner\s+Lee Legal/);

    for (const step of ['Sent to vendor', 'In negotiation']) {
      await page.getByLabel('Move to').selectOption({ label: step });
      // The form posts back to the same address, so wait for the new page itself.
      await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Change status' }).click()]);
      assert.match(await page.locator('.tier-line').innerText(), new RegExp(step));
    }
    await page.getByLabel('Section that adds CL-BRN to “Master Services Agreement”').fill('Amendment No. 1, §14.2');
    await page.getByLabel('Section that adds CL-DISP to “Master Services Agreement”').fill('Amendment No. 1, §14.3');
    await page.getByLabel('Executed amendment').setInputFiles({ name: 'amendment-1-executed.pdf', mimeType: 'application/pdf', buffer: PDF('executed amendment') });
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Record execution' }).click()]);
    assert.match(await page.locator('.flash').innerText(), /The amendment is executed/);
    assert.match(await page.locator('.tier-line').innerText(), /Executed/);
    assert.match(await page.locator('#files').innerText(), /amendment-1-executed\.pdf\s+Executed amendment/);

    await page.getByRole('link', { name: 'Clause coverage of Harborview Payroll LLC' }).click();
    await page.waitForURL(`${base}/vendors/${vendor.id}/coverage`);
    assert.equal(await page.locator('[data-coverage]').innerText(), '100%');
    assert.match(await page.locator('.coverage-table').innerText(), /Amendment No\. 1, §14\.2/);
    await page.goto(`${base}/vendors/${vendor.id}`);
    assert.match(await page.locator('#contracts').innerText(), /Coverage\s+100% of 8 applicable clauses/);
    await page.screenshot({ path: path.join(t.config.dataDir, 'contract-coverage.png'), fullPage: true });
    if (process.env.SCREENSHOT_DIR) fs.copyFileSync(path.join(t.config.dataDir, 'contract-coverage.png'), path.join(process.env.SCREENSHOT_DIR, 'contract-coverage.png'));
    await context.close();
  });
});
