import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EntityManager } from 'typeorm';
import { outsideTransaction } from '../server/db/data-source';
import { createTestApp, type TestApp } from './helpers/app';

const onPostgres = (process.env.DATABASE_URL ?? '').startsWith('postgres');

/** Session rows committed so far, as a read outside any transaction sees them. */
async function rowCount(t: TestApp): Promise<number> {
  const [row] = (await t.ctx.ds.query('SELECT COUNT(*) AS n FROM "sessions"')) as { n: number }[];
  return Number(row!.n);
}

let rows = 0;
/** Inserts a session row (a table with few columns) through the given manager. */
async function insertRow(m: EntityManager): Promise<void> {
  rows += 1;
  await m.query('INSERT INTO "sessions" ("id", "userId", "data", "expiresAt", "createdAt") VALUES (?, NULL, ?, ?, ?)', [`row-${rows}`, '{}', '2030-01-01T00:00:00.000Z', '2026-03-02T09:00:00.000Z']);
}

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('SQLite reads beside the shared connection', { skip: onPostgres ? 'SQLite only: PostgreSQL has a pool of connections' : false }, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  test('When a transaction is open, then a read outside it answers at once and sees only what was committed', async () => {
    await t.ctx.transact(insertRow);
    const before = await rowCount(t);
    const inserted = gate();
    const release = gate();
    const writing = t.ctx.transact(async (m) => {
      await insertRow(m);
      inserted.open();
      await release.opened;
    });
    await inserted.opened;
    // Before, this read queued behind the open transaction; now it answers while it is still open.
    assert.equal(await rowCount(t), before, 'the uncommitted row is not seen');
    release.open();
    await writing;
    assert.equal(await rowCount(t), before + 1, 'once committed, it is');
  });

  test('When a delivery run is asked for inside a transaction, then it starts after the commit and sees what was committed', async () => {
    const before = await rowCount(t);
    let seen: number | null = null;
    let committed = false;
    let ranBeforeCommit = false;
    const ran = gate();
    await t.ctx.transact(async (m) => {
      await insertRow(m);
      outsideTransaction(t.ctx.ds, () => {
        ranBeforeCommit = !committed;
        void rowCount(t).then((n) => {
          seen = n;
          ran.open();
        });
      });
      // Give a wrongly immediate start every chance to happen before the commit.
      await new Promise((resolve) => setImmediate(resolve));
      await m.query('SELECT 1');
    });
    committed = true;
    await ran.opened;
    assert.equal(ranBeforeCommit, false, 'the run waited for the transaction to end');
    assert.equal(seen, before + 1, 'and saw the committed row');
  });

  test('When a read has an error in its SQL, then it fails with the database error and later reads still answer', async () => {
    await assert.rejects(t.ctx.ds.query('SELECT nope FROM "vendors"'), /no such column: nope/);
    await assert.rejects(t.ctx.ds.query('SELECT nope FROM "vendors"'), /no such column: nope/, 'a statement that failed to prepare is not kept');
    assert.ok((await rowCount(t)) > 0, 'a later read answers');
  });

  test('When more distinct reads are made than statements are kept, then every one still answers correctly', async () => {
    const answers = await Promise.all(Array.from({ length: 700 }, (_, i) => t.ctx.ds.query(`SELECT ${i} AS n, ? AS p`, [`p${i}`]) as Promise<{ n: number; p: string }[]>));
    answers.forEach((rows, i) => assert.deepEqual(rows, [{ n: i, p: `p${i}` }]));
    // The same text again with other parameters: a kept statement binds the new ones.
    assert.deepEqual(await t.ctx.ds.query('SELECT 699 AS n, ? AS p', ['again']), [{ n: 699, p: 'again' }]);
  });
});
