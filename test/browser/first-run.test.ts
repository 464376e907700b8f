import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createTestApp, type TestApp } from '../helpers/app';
import { browserSkip, launchBrowser, serve } from '../helpers/browser';
import { GOOD_PASSWORD } from '../helpers/http';

describe('first run in a browser', { skip: browserSkip }, () => {
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

  test('When a newcomer opens the setup link, then they create the admin, sign out, and sign in again', async () => {
    const link = await t.ctx.accounts.issueSetupLink();
    assert.ok(link);
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) blocked.push(m.text());
    });

    await page.goto(`${base}/login`);
    assert.match(await page.locator('h1').innerText(), /Finish setting up Oversight/);

    await page.goto(`${base}/setup?token=${new URL(link).searchParams.get('token')}`);
    await page.getByLabel('Your name').fill('Grace Admin');
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Password again').fill('short');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    assert.match(await page.locator('.error-summary').innerText(), /Password must be at least 12 characters/);
    assert.equal(await page.getByLabel('Your name').inputValue(), 'Grace Admin', 'typed values survive the error');

    await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await page.getByLabel('Password again').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.waitForURL(`${base}/`);
    assert.match(await page.locator('main').innerText(), /Welcome, Grace Admin/);
    assert.match(await page.locator('.flash').innerText(), /administrator account is ready/);
    const headerColour = await page
      .locator('.site-header')
      .evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor);
    assert.equal(headerColour, 'rgb(29, 78, 137)', 'the local stylesheet loads under the CSP');
    await page.screenshot({ path: `${t.config.dataDir}/dashboard.png`, fullPage: true });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/login`);
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);
    assert.equal(await page.getByRole('link', { name: 'Users' }).count(), 1, 'admins see the Users menu');
    assert.deepEqual(blocked, [], 'nothing was blocked by the CSP');
    if (process.env.SCREENSHOT_DIR) fs.copyFileSync(`${t.config.dataDir}/dashboard.png`, `${process.env.SCREENSHOT_DIR}/dashboard.png`);
  });
});
