import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import sqlite3 from 'sqlite3';
import { DataSource, type EntityManager, type ObjectLiteral, QueryFailedError, type QueryRunner, QueryResult } from 'typeorm';
import { DateUtils } from 'typeorm/util/DateUtils';
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
  bindNumbers(ds);
  return ds;
}

/**
 * Makes TypeORM's SQLite driver bind number parameters instead of writing them into the SQL text
 * (as it does for every other type), so that a query has one text whatever the ids in it: SQLite
 * compares a bound number exactly as the same literal, and the reader connections' prepared
 * statements are then reused across vendors, users and questionnaires instead of one per id.
 * Otherwise the driver's own method, unchanged.
 */
function bindNumbers(ds: DataSource): void {
  const driver = ds.driver as unknown as {
    escapeQueryWithParameters(sql: string, parameters: ObjectLiteral, nativeParameters: ObjectLiteral): [string, unknown[]];
    createParameter(name: string, index: number): string;
  };
  const sqliteValue = (value: unknown): unknown => (typeof value === 'boolean' ? +value : value instanceof Date ? DateUtils.mixedDateToUtcDatetimeString(value) : value);
  driver.escapeQueryWithParameters = (sql, parameters, nativeParameters) => {
    const escaped = Object.keys(nativeParameters).map((key) => sqliteValue(nativeParameters[key]));
    if (!parameters || !Object.keys(parameters).length) return [sql, escaped];
    const text = sql.replace(/:(\.\.\.)?([A-Za-z0-9_.]+)/g, (full: string, isArray: string | undefined, key: string) => {
      if (!Object.prototype.hasOwnProperty.call(parameters, key)) return full;
      const value: unknown = parameters[key];
      if (isArray) {
        return (value as unknown[])
          .map((v) => {
            escaped.push(v);
            return driver.createParameter(key, escaped.length - 1);
          })
          .join(', ');
      }
      if (typeof value === 'function') return (value as () => string)();
      escaped.push(sqliteValue(value));
      return driver.createParameter(key, escaped.length - 1);
    });
    return [text, escaped];
  };
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
  /** Runs fn, outside any transaction, once the transaction open now (if any) has ended. */
  outside(fn: () => void): void;
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
  const readers = ReaderPool.open(ds);
  /** True while the shared connection holds a transaction begun through transact (not TypeORM's own). */
  let guardedOpen = false;
  runner.query = ((sql: string, parameters?: unknown[], structured?: boolean) => {
    if (owns()) return query(sql, parameters, structured);
    // A read outside any transaction goes to a reader connection at once: it sees only committed
    // data, and neither waits behind nor holds up the shared connection.
    if (readers && READ_ONLY.test(sql) && (guardedOpen || !runner.isTransactionActive)) return readers.query(sql, parameters, structured);
    // BEGIN arrives here already made IMMEDIATE, with its busy retries (see beginImmediate).
    return exclusive(() => query(sql, parameters, structured));
  }) as QueryRunner['query'];

  const transact: Transact = <T>(work: (manager: EntityManager) => Promise<T>): Promise<T> => {
    if (owns()) return ds.transaction(work);
    return exclusive(() => {
      const store = { active: true };
      guardedOpen = true;
      return inside.run(store, () => ds.transaction(work)).finally(() => {
        // Work started inside but still running afterwards (a mail kick) queues like any other.
        store.active = false;
        guardedOpen = false;
      });
    });
  };

  // Saving or removing entities outside a transaction opens one of TypeORM's own (BEGIN, statements,
  // COMMIT as separate calls); those run as one guarded transaction instead.
  const manager = ds.manager as unknown as Record<'save' | 'remove' | 'softRemove' | 'recover', (...args: unknown[]) => Promise<unknown>>;
  for (const method of ['save', 'remove', 'softRemove', 'recover'] as const) {
    manager[method] = (...args: unknown[]) => transact((m) => (m as unknown as typeof manager)[method]!(...args));
  }
  // Reads no longer queue on the shared connection, so waiting for the open transaction is explicit:
  // fn starts once everything queued there until now (that transaction included) has finished.
  const outside = (fn: () => void): void => {
    void inside.exit(() => exclusive(() => Promise.resolve())).then(() => inside.exit(fn));
  };
  const guard: SqliteGuard = { transact, outside };
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
 * transaction: on SQLite it starts once the open transaction has ended (committed or rolled back),
 * so it neither joins that transaction on the shared connection (and sends a message that is then
 * rolled back) nor misses what the transaction is about to commit.
 */
export function outsideTransaction(ds: DataSource, fn: () => void): void {
  if (ds.options.type !== 'sqlite') return fn();
  sqliteGuard(ds).outside(fn);
}

/** A statement that only reads: a SELECT, or a WITH that ends in one and writes nothing. */
const READ_ONLY = /^\s*(SELECT\b|WITH\b(?![\s\S]*\b(INSERT|UPDATE|DELETE|REPLACE)\b))/i;
/** Reader connections beside the shared one (node runs SQLite's work on its thread pool of 4). */
const READERS = 2;

/**
 * Read-only connections to the SQLite file (in WAL mode, readers never block the writer nor wait for
 * it). Reads issued outside a transaction run here, in parallel with each other and with the shared
 * connection, instead of queueing one at a time behind every statement and transaction of every
 * other request. Each statement sees what was committed when it started, as on PostgreSQL.
 */
class ReaderPool {
  private next = 0;

  private constructor(
    private readonly ds: DataSource,
    private readonly readers: Reader[],
  ) {}

  /** Opens the readers for a file database (none for an in-memory one) and closes them with the DataSource. */
  static open(ds: DataSource): ReaderPool | null {
    const file = (ds.options as { database: string }).database;
    if (!file || file === ':memory:' || !ds.isInitialized) return null;
    const pool = new ReaderPool(ds, Array.from({ length: READERS }, () => new Reader(file)));
    const destroy = ds.destroy.bind(ds);
    ds.destroy = async () => {
      await pool.close();
      await destroy();
    };
    return pool;
  }

  /** Runs a read as TypeORM's SQLite runner would, with the same result shapes and errors. */
  query(sql: string, parameters: unknown[] | undefined, structured: boolean | undefined): Promise<unknown> {
    const reader = this.readers[this.next]!;
    this.next = (this.next + 1) % this.readers.length;
    // Logged as TypeORM logs a query (with logging off, a no-op; tests count queries here).
    this.ds.logger.logQuery(sql, parameters);
    return reader.statement(sql).then(
      (stmt) =>
        new Promise((resolve, reject) => {
          stmt.all(parameters ?? [], (err: Error | null, rows: unknown[]) => {
            if (err) return reject(new QueryFailedError(sql, parameters, err));
            if (!structured) return resolve(rows);
            const result = new QueryResult();
            result.raw = rows;
            result.records = rows;
            resolve(result);
          });
        }),
      (err: Error) => Promise.reject(new QueryFailedError(sql, parameters, err)),
    );
  }

  private close(): Promise<void> {
    return Promise.all(this.readers.map((r) => r.close())).then(() => undefined);
  }
}

/** Prepared statements kept per reader connection: the same few hundred SQL texts recur on every page. */
const MAX_STATEMENTS = 300;

/**
 * One reader connection and its prepared statements. Preparing a statement (SQLite parsing and
 * planning it, and node's binding creating it) costs about as much as running a simple one; a page's
 * queries have the same text every time, with only their parameters changing.
 */
class Reader {
  private readonly db: sqlite3.Database;
  private readonly statements = new Map<string, Promise<sqlite3.Statement>>();

  constructor(file: string) {
    this.db = new sqlite3.Database(file, sqlite3.OPEN_READWRITE);
    this.db.configure('busyTimeout', SQLITE_BUSY_TIMEOUT_MS);
    this.db.run('PRAGMA query_only = 1');
  }

  /** The prepared statement for sql; one that fails to prepare (an error in the SQL) is not kept. */
  statement(sql: string): Promise<sqlite3.Statement> {
    const kept = this.statements.get(sql);
    if (kept) {
      // Most recently used last, so the first is the one to let go.
      this.statements.delete(sql);
      this.statements.set(sql, kept);
      return kept;
    }
    if (this.statements.size >= MAX_STATEMENTS) {
      const [oldestSql, oldest] = this.statements.entries().next().value as [string, Promise<sqlite3.Statement>];
      this.statements.delete(oldestSql);
      // Finalizing waits for the statement's queued runs.
      void oldest.then((stmt) => stmt.finalize(), () => undefined);
    }
    const prepared = new Promise<sqlite3.Statement>((resolve, reject) => {
      const stmt = this.db.prepare(sql, (err: Error | null) => {
        if (!err) return resolve(stmt);
        if (this.statements.get(sql) === prepared) this.statements.delete(sql);
        reject(err);
      });
    });
    this.statements.set(sql, prepared);
    return prepared;
  }

  close(): Promise<void> {
    const statements = [...this.statements.values()];
    this.statements.clear();
    const finalize = (p: Promise<sqlite3.Statement>) => p.then((stmt) => new Promise<void>((resolve) => stmt.finalize(() => resolve())), () => undefined);
    return Promise.all(statements.map(finalize))
      .then(() => new Promise<void>((resolve) => this.db.close(() => resolve())));
  }
}

/**
 * Awaits statements issued together inside one transaction (statements that do not depend on each
 * other, so that a transaction waits for one round trip instead of one per statement), and fails
 * with the first error only once every one of them has finished: a statement still queued must not
 * run after the ROLLBACK the error brings (on SQLite it would then run outside the transaction). On
 * SQLite they may run in any order; on PostgreSQL the transaction's connection runs them in turn.
 */
export async function allStatements<T extends readonly unknown[]>(statements: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(statements);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
