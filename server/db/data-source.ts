import 'reflect-metadata';
import sqlite3 from 'sqlite3';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import type { Config } from '../config';
import { MIGRATIONS_GLOB } from '../paths';
import { ENTITIES } from './entities';

/** SQLite waits this long for a lock before reporting busy. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

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
 * requests into 500s. Taking the lock first makes them wait their turn instead.
 */
function beginImmediate(ds: DataSource): void {
  const driver = ds.driver as unknown as { createQueryRunner(mode: 'master' | 'slave'): QueryRunner };
  const create = driver.createQueryRunner.bind(driver);
  const patched = new WeakSet<QueryRunner>();
  driver.createQueryRunner = (mode) => {
    const qr = create(mode);
    if (!patched.has(qr)) {
      patched.add(qr);
      const query = qr.query.bind(qr);
      qr.query = ((sql: string, parameters?: unknown[], structured?: boolean) => query(sql === 'BEGIN TRANSACTION' ? 'BEGIN IMMEDIATE TRANSACTION' : sql, parameters, structured as true)) as QueryRunner['query'];
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
 * Runs work in one transaction. SQLite in TypeORM shares a single connection, so two transactions
 * open at once would interleave on it; they are queued here and run one after the other.
 */
export function createTransact(ds: DataSource): Transact {
  if (ds.options.type !== 'sqlite') return (work) => ds.transaction(work);
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: (manager: EntityManager) => Promise<T>): Promise<T> => {
    const run = tail.then(() => ds.transaction(work));
    tail = run.catch(() => undefined);
    return run;
  };
}
