import type { Response } from 'express';
import { stringify } from 'csv-stringify/sync';

export type CsvRow = Record<string, string | number>;

/**
 * A cell starting with = + - @ (or a tab or carriage return) would run as a formula when the file is
 * opened in a spreadsheet; a leading quote makes it plain text. Every CSV the portal writes goes
 * through here.
 */
export function defuseCells<T extends CsvRow>(row: T): T {
  for (const [k, v] of Object.entries(row)) if (typeof v === 'string' && /^[=+\-@\t\r]/.test(v)) (row as CsvRow)[k] = `'${v}`;
  return row;
}

/** CSV lines for these rows, defused, in the columns' order (the header line first when asked). */
export function csvLines(rows: CsvRow[], columns: readonly string[], header: boolean): string {
  return stringify(
    rows.map((r) => defuseCells({ ...r })),
    { header, columns: [...columns] },
  );
}

/**
 * Streams a CSV download: UTF-8 with the byte-order mark Excel needs, the header, then the rows a
 * page at a time (`page(n)` returns at most `batch` rows), waiting for the client to drain between
 * pages so a list of any length never sits in memory.
 */
export async function sendCsv(res: Response, fileName: string, columns: readonly string[], page: (n: number, batch: number) => Promise<CsvRow[]>, batch = 500): Promise<void> {
  res.set('Content-Type', 'text/csv; charset=utf-8');
  res.set('Content-Disposition', `attachment; filename="${fileName}"`);
  res.write('\uFEFF');
  res.write(csvLines([], columns, true));
  for (let n = 1; ; n++) {
    const rows = await page(n, batch);
    if (rows.length === 0) break;
    if (!res.write(csvLines(rows, columns, false))) await new Promise((resolve) => res.once('drain', resolve));
    if (rows.length < batch) break;
  }
  res.end();
}
