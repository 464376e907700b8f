import type { Context } from './context';

/** A scheduled task: its cron schedule beside the work, so the work can be run directly in tests. */
export interface Job {
  name: string;
  /** node-cron expression (six fields: with seconds). */
  schedule: string;
  run(ctx: Context, now: Date): Promise<void>;
}
