import type { Job } from '../jobs';
import { runSweep } from './sweep';

/** The daily reminder sweep, at REMINDER_CRON in REMINDER_TIMEZONE (08:00 UTC by default). */
export const reminderSweepJob: Job = {
  name: 'reminder-sweep',
  schedule: (ctx) => ctx.config.reminders.cron,
  timeZone: (ctx) => ctx.config.reminders.timeZone,
  run: async (ctx, now) => {
    await runSweep(ctx, now);
  },
};
