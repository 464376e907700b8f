import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { systemActor } from '../../server/audit/service';
import { createTestApp, type TestApp } from '../helpers/app';
import { browserSkip, launchBrowser, serve } from '../helpers/browser';
import { GOOD_PASSWORD, makeUser, makeVendor } from '../helpers/http';

describe('the dashboard in a browser', { skip: browserSkip }, () => {
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

  test('When a reviewer follows the dashboard figures, then each filtered list shows the rows behind the number', async () => {
    const { email } = await makeUser(t, 'reviewer', { name: 'Rae Reviewer' });
    await makeVendor(t, { legalName: 'Never Checked Payroll', status: 'onboarding', lastAssessedOn: null });
    await makeVendor(t, { legalName: 'Long Ago Couriers', status: 'active', lastAssessedOn: '2024-01-10' });
    await makeVendor(t, { legalName: 'Fresh Review Labs', status: 'active', lastAssessedOn: '2026-02-01' });
    await makeVendor(t, { legalName: 'No Data Florist', status: 'active', piElements: [], recordVolume: 'none', accessModes: [] });
    const risky = await makeVendor(t, { legalName: 'Critical Gap Inc', status: 'active', lastAssessedOn: '2026-02-01' });
    await t.ctx.findings.create(systemActor('test'), risky.id, { title: 'Backups unencrypted', severity: 'critical', citation: '201 CMR 17.04(5)', remediatedBy: 'vendor' });

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);

    // The charts are drawn and named for assistive technology.
    const chart = page.getByRole('img', { name: 'Open findings by severity' });
    assert.equal(await chart.count(), 1);
    assert.ok((await chart.boundingBox())!.width > 100, 'the chart is drawn with the stylesheet applied');
    const headline = page.locator('a[data-figure="headline"]');
    assert.equal(await headline.locator('.figure-number').innerText(), '2');

    await headline.click();
    await page.waitForURL(/assessment=outside_cycle/);
    const names = await page.locator('table.vendor-table tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(names.map((n) => n.split('\n')[0]!.trim()).sort(), ['Long Ago Couriers', 'Never Checked Payroll']);
    assert.equal(await page.getByLabel('Assessment').inputValue(), 'outside_cycle', 'the filter shows in the form');

    await page.goBack();
    await page.locator('#dash-findings').scrollIntoViewIfNeeded();
    await page.locator('section[aria-labelledby="dash-findings"] table a[href="/findings?status=open&severity=critical"]').click();
    await page.waitForURL(/severity=critical/);
    assert.match(await page.locator('.result-count').innerText(), /^1 finding matches/);
    assert.equal(await page.locator('table.finding-table tbody tr').count(), 1);
    assert.match(await page.locator('table.finding-table tbody').innerText(), /Backups unencrypted/);
    assert.deepEqual(errors.filter((e) => /Content Security Policy/i.test(e)), [], 'nothing was blocked by the CSP');
    await page.close();
  });
});
