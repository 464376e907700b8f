import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Questionnaire } from '../server/questionnaires/entities';
import { Vendor } from '../server/vendors/entities';
import { createTestApp, type TestApp } from './helpers/app';
import { makeUser } from './helpers/http';

const CLI = path.resolve(__dirname, '..', 'server', 'cli.js');

describe('demo data', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    await makeUser(t, 'procurement');
  });
  after(() => t.close());

  test('When npm run demo runs twice, then about 30 varied vendors exist once each', () => {
    const env = { PATH: process.env.PATH, ...t.env, LOG_LEVEL: 'silent' };
    const first = spawnSync(process.execPath, [CLI, 'demo'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /Demo data: 30 vendors added\./);
    const second = spawnSync(process.execPath, [CLI, 'demo'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /0 vendors added, 30 already present/);
  });

  test('When the demo is loaded, then every tier, status and scope appears, with owners and contacts', async () => {
    // The CLI ran on the real clock; judge the assessment states on the same day.
    t.clock.set(new Date());
    const vendors = await t.ctx.ds.getRepository(Vendor).find();
    assert.equal(vendors.length, 30);
    assert.deepEqual(new Set(vendors.map((v) => v.tier)), new Set(['critical', 'high', 'medium', 'low', 'none']));
    assert.deepEqual(new Set(vendors.map((v) => v.status)), new Set(['prospect', 'onboarding', 'active', 'offboarding', 'terminated']));
    assert.ok(vendors.some((v) => !v.inScope) && vendors.some((v) => v.inScope));
    assert.ok(vendors.some((v) => v.tierOverride !== null));
    assert.ok(vendors.every((v) => v.businessOwnerId !== null));
    const states = new Set((await Promise.all(['overdue', 'due_soon', 'current', 'never'].map(async (a) => ((await t.ctx.vendors.list({ assessment: a as 'overdue' }, 1, 1)).total > 0 ? a : null)))).filter(Boolean));
    assert.equal(states.size, 4, `assessment states present: ${[...states].join(', ')}`);
    const questionnaires = await t.ctx.ds.getRepository(Questionnaire).find();
    assert.deepEqual(new Set(questionnaires.map((q) => q.status)), new Set(['sent', 'in_progress', 'submitted', 'approved', 'revoked']));
    const submitted = await t.ctx.questionnaires.hydrate(questionnaires.find((q) => q.status === 'approved')!);
    const { answers, files } = await t.ctx.questionnaires.content(submitted.id);
    assert.deepEqual(t.ctx.questionnaires.missingRequired(submitted, answers, files), []);
    assert.ok((await t.ctx.questionnaires.files(submitted.id)).length > 0, 'submitted demo answers carry evidence');
  });
});
