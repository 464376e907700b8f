import type { DataSource, QueryRunner } from 'typeorm';

/** One query as the profiler saw it. */
export interface QueryTiming {
  sql: string;
  ms: number;
}

/**
 * Counts and times every query the DataSource runs, by wrapping its query runner's `query` method
 * (the one class of runner the driver creates). For `npm run bench -- --profile`, which requests one
 * page at a time, so a query's time is its own and not a wait behind another request's.
 */
export class QueryProfiler {
  private current: QueryTiming[] = [];

  constructor(ds: DataSource) {
    const runner = ds.createQueryRunner();
    const proto = Object.getPrototypeOf(runner) as QueryRunner;
    proto.query = this.timed(proto.query);
    // SQLite's driver hands out one runner, created when the database was opened; its `query` is an
    // own property (BEGIN IMMEDIATE) bound to the original method, so it is wrapped on the instance too.
    if (Object.prototype.hasOwnProperty.call(runner, 'query')) runner.query = this.timed(runner.query);
    void runner.release();
  }

  private timed(original: QueryRunner['query']): QueryRunner['query'] {
    const self = this;
    return async function (this: QueryRunner, ...args: Parameters<QueryRunner['query']>) {
      const t0 = performance.now();
      try {
        return (await original.apply(this, args)) as unknown;
      } finally {
        self.current.push({ sql: args[0], ms: performance.now() - t0 });
      }
    } as QueryRunner['query'];
  }

  /** Returns the queries run since the last call, and starts a new list. */
  take(): QueryTiming[] {
    const out = this.current;
    this.current = [];
    return out;
  }
}
