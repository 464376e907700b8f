import type { Job } from '../jobs';

/** Delivers due outbox messages (including retries) every 30 seconds. */
export const deliverMailJob: Job = {
  name: 'deliver-mail',
  schedule: '*/30 * * * * *',
  run: async (ctx) => {
    await ctx.mail.deliverDue();
  },
};
