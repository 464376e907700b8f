import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OutboxMessage } from '../server/mail/entities';
import { enqueueMail, type MailMessage } from '../server/mail/outbox';
import { Reminder } from '../server/reminders/entities';
import { type BatchRead, type PlannedReminder, type ReminderRule, SkipReminder } from '../server/reminders/rules/types';
import { runSweep } from '../server/reminders/sweep';
import { decryptText } from '../server/security/crypto';
import { createTestApp, type TestApp } from './helpers/app';

/** A reminder to a vendor address, with the given delivery (a rule of the test's own). */
function planned(key: string, deliver: PlannedReminder['deliver'], reads?: PlannedReminder['reads']): PlannedReminder {
  return { key, rule: 'batch-test', vendorId: null, subjectType: 'test', subjectId: 1, occurrence: key, recipient: { email: `${key}@vendor.example`, name: key, userId: null }, summary: `Summary ${key}`, url: null, dueOn: null, internal: false, reads, deliver };
}

const mailFor = (key: string) => async (): Promise<MailMessage> => ({ kind: 'batch-test', to: `${key}@vendor.example`, subject: `Subject ${key}`, text: `Body ${key}`, html: `<p>Body ${key}</p>` });
const ruleOf = (reminders: PlannedReminder[]): ReminderRule => ({ name: 'batch-test', description: 'Reminders of the test', plan: async () => reminders });

describe('reminder batches', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  /** The test rule's reminder rows, each with its queued message (or null). */
  async function written(prefix: string) {
    const rows = (await t.ctx.ds.getRepository(Reminder).find({ where: { rule: 'batch-test' }, order: { id: 'ASC' } })).filter((r) => r.key.startsWith(prefix));
    const messages = await t.ctx.ds.getRepository(OutboxMessage).find();
    return rows.map((r) => ({ row: r, message: messages.find((m) => m.id === r.outboxId) ?? null }));
  }

  test('When one reminder of a batch no longer applies at sending, then the others are written each with its own email and it leaves nothing', async () => {
    const result = await runSweep(t.ctx, t.clock.now(), { rules: [ruleOf([planned('skip-a', mailFor('skip-a')), planned('skip-b', async () => { throw new SkipReminder('answered meanwhile'); }), planned('skip-c', mailFor('skip-c'))])] });

    assert.deepEqual({ sent: result.sent, skipped: result.skipped, failed: result.failed }, { sent: 2, skipped: 1, failed: 0 });
    const rows = await written('skip-');
    assert.deepEqual(rows.map((r) => r.row.key), ['skip-a', 'skip-c']);
    for (const { row, message } of rows) {
      assert.equal(row.delivery, 'email');
      assert.equal(message?.dedupeKey, `reminder:${row.key}`);
      assert.equal(message?.toAddress, `${row.key}@vendor.example`);
      assert.equal(decryptText(t.ctx.mailKey, message!.bodyEncrypted), `Body ${row.key}`);
      assert.equal(decryptText(t.ctx.mailKey, message!.htmlEncrypted!), `<p>Body ${row.key}</p>`);
    }
    assert.equal(await t.ctx.ds.getRepository(OutboxMessage).count({ where: { dedupeKey: 'reminder:skip-b' } }), 0);
  });

  test('When a sweep writes more reminders than one batch holds, then every row points at its own message and a second sweep adds nothing', async () => {
    const keys = Array.from({ length: 450 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
    const rule = ruleOf(keys.map((k) => planned(k, mailFor(k))));

    const first = await runSweep(t.ctx, t.clock.now(), { rules: [rule] });
    const again = await runSweep(t.ctx, t.clock.now(), { rules: [rule] });

    assert.equal(first.sent, 450);
    assert.equal(again.sent, 0);
    const rows = await written('many-');
    assert.deepEqual(rows.map((r) => r.row.key), keys, 'in planned order');
    assert.ok(rows.every((r) => r.message?.dedupeKey === `reminder:${r.row.key}` && r.message.subject === `Subject ${r.row.key}`));
    assert.equal(new Set(rows.map((r) => r.row.outboxId)).size, 450);
  });

  test('When a reminder\'s email was queued before, then its row points at that message and no second one is queued', async () => {
    await t.ctx.transact((m) => enqueueMail(m, t.ctx.clock, t.ctx.mailKey, { kind: 'batch-test', to: 'early@vendor.example', subject: 'Queued earlier', text: 'Earlier', dedupeKey: 'reminder:early-a' }));
    const earlier = await t.ctx.ds.getRepository(OutboxMessage).findOneByOrFail({ dedupeKey: 'reminder:early-a' });

    const result = await runSweep(t.ctx, t.clock.now(), { rules: [ruleOf([planned('early-a', mailFor('early-a')), planned('early-b', mailFor('early-b'))])] });

    assert.equal(result.sent, 2);
    const rows = await written('early-');
    assert.equal(rows[0]!.row.outboxId, earlier.id);
    assert.equal(rows[0]!.message?.subject, 'Queued earlier');
    assert.equal(await t.ctx.ds.getRepository(OutboxMessage).count({ where: { dedupeKey: 'reminder:early-a' } }), 1);
    assert.equal(rows[1]!.message?.subject, 'Subject early-b');
  });

  test('When reminders of a batch read the same thing, then it is read once for them, and read again after a reminder\'s action wrote', async () => {
    let state = 'before';
    const loads: number[][] = [];
    const read: BatchRead<string> = {
      load: async (_m, ids) => {
        loads.push([...ids].sort((a, b) => a - b));
        return new Map(ids.map((id) => [id, `${state} ${id}`]));
      },
    };
    const seen: Record<string, string | undefined> = {};
    const reader = (key: string, id: number) =>
      planned(
        key,
        async (_m, reads) => {
          seen[key] = await reads.get(read, id);
          return mailFor(key)();
        },
        [{ read, id }],
      );
    const action = planned('reads-action', async () => {
      state = 'after';
      return null;
    });

    await runSweep(t.ctx, t.clock.now(), { rules: [ruleOf([reader('reads-1', 1), reader('reads-2', 2), action, reader('reads-3', 3)])] });

    assert.deepEqual(seen, { 'reads-1': 'before 1', 'reads-2': 'before 2', 'reads-3': 'after 3' });
    assert.deepEqual(loads, [[1, 2, 3], [3]], 'one read for the batch, one more after the action');
    const rows = await written('reads-');
    assert.deepEqual(rows.map((r) => [r.row.key, r.row.delivery]), [['reads-1', 'email'], ['reads-2', 'email'], ['reads-action', 'action'], ['reads-3', 'email']]);
  });
  test('When more mail is due than one delivery batch holds, then one delivery run sends all of it, each message once', async () => {
    await t.ctx.mail.deliverDue(); // what the earlier sweeps queued (and kicked) goes first
    const outbox = t.ctx.ds.getRepository(OutboxMessage);
    assert.equal(await outbox.count({ where: { status: 'pending' } }), 0);
    const alreadySent = await outbox.count({ where: { status: 'sent' } });
    await t.ctx.transact(async (m) => {
      for (let i = 0; i < 120; i += 1) await enqueueMail(m, t.ctx.clock, t.ctx.mailKey, { kind: 'batch-test', to: `backlog-${i}@vendor.example`, subject: `Backlog ${i}`, text: `Backlog ${i}` });
    });

    const sent = await t.ctx.mail.deliverDue();

    assert.equal(sent, 120, 'every due message in one run, not one batch of 50');
    assert.equal(await outbox.count({ where: { status: 'pending' } }), 0);
    assert.equal(await outbox.count({ where: { status: 'sent' } }), alreadySent + 120);
    // The local outbox keeps one file per message: none was written twice.
    assert.equal(fs.readdirSync(path.join(t.config.dataDir, 'mail')).filter((f) => f.endsWith('.eml')).length, alreadySent + 120);
  });
});
