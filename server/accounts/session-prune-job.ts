import type { Job } from '../jobs';

/** Removes expired sessions every 15 minutes. */
export const pruneSessionsJob: Job = {
  name: 'prune-sessions',
  schedule: '0 */15 * * * *',
  run: async (ctx) => {
    const removed = await ctx.sessions.prune();
    if (removed > 0) ctx.logger.debug({ removed }, 'expired sessions removed');
  },
};
