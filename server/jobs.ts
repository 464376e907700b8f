import type { Context } from './context';

/** A scheduled task: its cron schedule beside the work, so the work can be run directly in tests. */
export interface Job {
  name: string;
  /** node-cron expression (five fields, or six with seconds), or one read from the configuration. */
  schedule: string | ((ctx: Context) => string);
  /** IANA time zone the schedule is read in (default: the server's). */
  timeZone?: (ctx: Context) => string;
  run(ctx: Context, now: Date): Promise<void>;
}
