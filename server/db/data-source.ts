import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import sqlite3 from 'sqlite3';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import type { Config } from '../config';
import { MIGRATIONS_GLOB } from '../paths';
import { ENTITIES } from './entities';

/** SQLite waits this long for a lock before reporting busy. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** How long a write transaction keeps asking for SQLite's write lock (held by another process) before giving up. */
const SQLITE_BEGIN_PATIENCE_MS = 30_000;

/** Builds (without connecting) the DataSource for the configured database. Never synchronizes. */
export function createDataSource(database: Config['database']): DataSource {
  const common = {
    entities: ENTITIES,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
  };
  if (database.type === 'postgres') {
    return new DataSource({ ...common, type: 'postgres', url: database.url, extra: { max: 10 } });
  }
  const ds = new DataSource({
    ...common,
    type: 'sqlite',
    database: database.file,
    enableWAL: true,
    busyTimeout: SQLITE_BUSY_TIMEOUT_MS,
    driver: quietSqlite3,
    // foreign_keys = ON is set by TypeORM's SQLite driver on every connection.
  });
  beginImmediate(ds);
  return ds;
}

/**
 * Makes every SQLite transaction start with BEGIN IMMEDIATE, taking the write lock at once. With
 * TypeORM's plain (deferred) BEGIN, a transaction that reads first and writes later fails at its
 * first write with SQLITE_BUSY, without waiting out the busy timeout, whenever another process
 * wrote to the file meanwhile: two instances (or the CLI beside the portal) on one file turned such
 * requests into 500s. Taking the lock first makes them wait their turn instead, and a BEGIN that
 * still finds the file busy is tried again for up to SQLITE_BEGIN_PATIENCE_MS.
 */
function beginImmediate(ds: DataSource): void {
  const driver = ds.driver as unknown as { createQueryRunner(mode: 'master' | 'slave'): QueryRunner };
  const create = driver.createQueryRunner.bind(driver);
  const patched = new WeakSet<QueryRunner>();
  driver.createQueryRunner = (mode) => {
    const qr = create(mode);
    if (!patched.has(qr)) {
      patched.add(qr);
      const query = qr.query.bind(qr) as (sql: string, parameters?: unknown[], structured?: boolean) => Promise<unknown>;
      const begin = async (): Promise<unknown> => {
        const deadline = Date.now() + SQLITE_BEGIN_PATIENCE_MS;
        for (;;) {
          try {
            return await query('BEGIN IMMEDIATE TRANSACTION');
          } catch (err) {
            if (!/SQLITE_BUSY/.test(String((err as Error)?.message)) || Date.now() > deadline) throw err;
          }
        }
      };
      qr.query = ((sql: string, parameters?: unknown[], structured?: boolean) => (sql === 'BEGIN TRANSACTION' ? begin() : query(sql, parameters, structured))) as QueryRunner['query'];
    }
    return qr;
  };
}

/**
 * The sqlite3 module as TypeORM should get it. TypeORM calls `verbose()` on the driver, which wraps
 * every query call to capture a stack trace and `util.inspect` its SQL and parameters: under load
 * that was most of a page's CPU time, and it copied parameter values into error stacks. This hands
 * TypeORM the same module with `verbose()` returning it unwrapped.
 */
const quietSqlite3: typeof sqlite3 = Object.create(sqlite3, { verbose: { value: () => quietSqlite3 } }) as typeof sqlite3;

/** Connects and applies every pending migration; returns the names of those applied. */
export async function openDatabase(ds: DataSource): Promise<string[]> {
  if (!ds.isInitialized) await ds.initialize();
  const applied = await ds.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}

export type Transact = <T>(work: (manager: EntityManager) => Promise<T>) => Promise<T>;

/**
 * SQLite in TypeORM shares one connection (one query runner) between every request. Left alone, a
 * statement of one request runs inside another request's open transaction: it reads what that
 * transaction has not committed, and when that transaction rolls back, a write that was already
 * answered as done is undone with it. The guard gives the connection to one owner at a time: a
 * transaction for its whole length, any other statement for itself; the transaction's own
 * statements are recognised by their async context.
 */
interface SqliteGuard {
  transact: Transact;
  /** Runs fn as if no transaction were open here, so its statements wait for the open one to end. */
  outside<T>(fn: () => T): T;
}

const guards = new WeakMap<DataSource, SqliteGuard>();

function sqliteGuard(ds: DataSource): SqliteGuard {
  const existing = guards.get(ds);
  if (existing) return existing;
  const inside = new AsyncLocalStorage<{ active: boolean }>();
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(run: () => Promise<T>): Promise<T> => {
    const result = tail.then(run);
    tail = result.catch(() => undefined);
    return result;
  };
  const owns = () => inside.getStore()?.active === true;

  const runner: QueryRunner = ds.driver.createQueryRunner('master');
  const query = runner.query.bind(runner) as (sql: string, parameters?: unknown[], structured?: boolean) => Promise<unknown>;
  runner.query = ((sql: string, parameters?: unknown[], structured?: boolean) => {
    // BEGIN arrives here already made IMMEDIATE, with its busy retries (see beginImmediate).
    const run = () => query(sql, parameters, structured);
    return owns() ? run() : exclusive(run);
  }) as QueryRunner['query'];

  const transact: Transact = <T>(work: (manager: EntityManager) => Promise<T>): Promise<T> => {
    if (owns()) return ds.transaction(work);
    return exclusive(() => {
      const store = { active: true };
      return inside.run(store, () => ds.transaction(work)).finally(() => {
        // Work started inside but still running afterwards (a mail kick) queues like any other.
        store.active = false;
      });
    });
  };

  // Saving or removing entities outside a transaction opens one of TypeORM's own (BEGIN, statements,
  // COMMIT as separate calls); those run as one guarded transaction instead.
  const manager = ds.manager as unknown as Record<'save' | 'remove' | 'softRemove' | 'recover', (...args: unknown[]) => Promise<unknown>>;
  for (const method of ['save', 'remove', 'softRemove', 'recover'] as const) {
    manager[method] = (...args: unknown[]) => transact((m) => (m as unknown as typeof manager)[method]!(...args));
  }
  const guard: SqliteGuard = { transact, outside: (fn) => inside.exit(fn) };
  guards.set(ds, guard);
  return guard;
}

/**
 * Runs work in one transaction. On SQLite, whose one connection every request shares, transactions
 * run one after the other and no other statement runs while one is open (see sqliteGuard).
 */
export function createTransact(ds: DataSource): Transact {
  if (ds.options.type !== 'sqlite') return (work) => ds.transaction(work);
  return sqliteGuard(ds).transact;
}

/**
 * Starts work that must see only committed data (a mail delivery run) even when asked from inside a
 * transaction: on SQLite its statements would otherwise join the open transaction on the shared
 * connection and could send a message that is then rolled back; here they wait for it to end.
 */
export function outsideTransaction<T>(ds: DataSource, fn: () => T): T {
  if (ds.options.type !== 'sqlite') return fn();
  return sqliteGuard(ds).outside(fn);
}
