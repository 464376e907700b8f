import type { Context } from '../context';
import { runSweep } from '../reminders/sweep';
import { Vendor } from '../vendors/entities';

/** What the benchmark reports about the reminder sweep. */
export type SweepFigures = { measured: false; note: string } | { measured: true; seconds: Record<string, number>; reminders: number; note: string };

/**
 * The reminder sweep's run time on the generated portfolio: a dry run (every rule's planning
 * queries) and a real sweep (planning plus writing each new reminder with its email). The figure
 * at 100,000 vendors needs a portfolio generated at that size (`--vendors 100000`).
 */
export async function measureReminderSweep(ctx: Context): Promise<SweepFigures> {
  const vendors = await ctx.ds.getRepository(Vendor).count();
  const t0 = performance.now();
  await runSweep(ctx, ctx.clock.now(), { dryRun: true });
  const t1 = performance.now();
  const real = await runSweep(ctx, ctx.clock.now());
  const t2 = performance.now();
  return {
    measured: true,
    seconds: { [`plan (dry run) at ${vendors} vendors`]: (t1 - t0) / 1000, [`sweep at ${vendors} vendors`]: (t2 - t1) / 1000 },
    reminders: real.sent,
    note: `${real.sent} reminders written`,
  };
}
