import type { DataSource } from 'typeorm';
import { rawQuery } from '../db/raw';
import { columnsOf } from '../db/rows';
import { Reminder } from './entities';

const LOG_COLUMNS = ['id', 'rule', 'vendorId', 'recipientEmail', 'summary', 'delivery', 'outboxId', 'createdAt'] as const satisfies readonly (keyof Reminder)[];

/** A reminder as the reminder log (views/reminders/log-table.ejs) shows it. */
export type ReminderLogRow = Pick<Reminder, (typeof LOG_COLUMNS)[number]>;

/**
 * A vendor's latest reminders, newest first, as the log shows them: plain SQL over the shown
 * columns, for the vendor page, which reads them on every view.
 */
export async function latestVendorReminders(ds: DataSource, vendorId: number, limit: number): Promise<ReminderLogRow[]> {
  const columns = columnsOf(ds, Reminder, LOG_COLUMNS);
  const rows = await rawQuery<Record<string, unknown>>(
    ds,
    `SELECT ${columns.list('r')} FROM "reminders" "r" WHERE "r"."vendorId" = :vendorId ORDER BY "r"."createdAt" DESC, "r"."id" DESC LIMIT :limit`,
    { vendorId, limit: Math.max(0, Math.trunc(limit)) },
  );
  return rows.map((r) => columns.read(r, 'r'));
}
