import cron, { type ScheduledTask } from 'node-cron';
import { pruneSessionsJob } from './accounts/session-prune-job';
import type { Context } from './context';
import type { Job } from './jobs';
import { deliverMailJob } from './mail/deliver-job';
import { reminderSweepJob } from './reminders/job';

/** Every scheduled job of the portal. */
export const JOBS: Job[] = [deliverMailJob, pruneSessionsJob, reminderSweepJob];

/** Starts the jobs on their schedules; a run never overlaps the previous run of the same job. */
export function startScheduler(ctx: Context, jobs: Job[] = JOBS): { stop(): Promise<void> } {
  const tasks: ScheduledTask[] = jobs.map((job) =>
    cron.schedule(
      typeof job.schedule === 'string' ? job.schedule : job.schedule(ctx),
      async () => {
        try {
          await job.run(ctx, ctx.clock.now());
        } catch (err) {
          ctx.logger.error({ err, job: job.name }, 'scheduled job failed');
        }
      },
      { name: job.name, noOverlap: true, ...(job.timeZone ? { timezone: job.timeZone(ctx) } : {}) },
    ),
  );
  return {
    stop: async () => {
      await Promise.all(tasks.map((t) => t.stop()));
    },
  };
}
