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
    void runner.release();
    const original = proto.query;
    const self = this;
    proto.query = async function (this: QueryRunner, ...args: Parameters<QueryRunner['query']>) {
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
