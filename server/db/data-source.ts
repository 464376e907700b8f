import 'reflect-metadata';
import sqlite3 from 'sqlite3';
import { DataSource, type EntityManager } from 'typeorm';
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
  return new DataSource({
    ...common,
    type: 'sqlite',
    database: database.file,
    enableWAL: true,
    busyTimeout: SQLITE_BUSY_TIMEOUT_MS,
    driver: quietSqlite3,
    // foreign_keys = ON is set by TypeORM's SQLite driver on every connection.
  });
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
