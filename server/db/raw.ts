import type { DataSource } from 'typeorm';

/**
 * Plain SQL for hot reads, where building a TypeORM query and mapping its entities costs more than
 * the database does. Write identifiers double-quoted and parameters as `:name` (`:...name` for a
 * list), so one statement runs on SQLite and PostgreSQL; read the values through the helpers below,
 * which even out what the two drivers return. Every value is bound as a parameter, so a
 * statement's text is the same on every call and SQLite's readers reuse its prepared statement.
 */
export async function rawQuery<T>(ds: DataSource, sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value) && value.length === 0 && sql.includes(`:...${key}`)) throw new Error(`rawQuery: :...${key} needs a non-empty list`);
  }
  // The driver's own escaping: on SQLite it binds every value (see bindNumbers in data-source.ts).
  const [query, values] = ds.driver.escapeQueryWithParameters(sql, params, {});
  return (await ds.query(query, values)) as T[];
}

/**
 * A subquery gathering rows into one JSON text, `[[v1, v2, …], …]` (`[]` for none), in the given
 * order: for a page that needs several small lists, where each list's own query costs a round trip
 * to the database and the driver an object per row and column, more than the rows themselves. The
 * two databases name their JSON functions differently; the text is the same on both.
 */
export function jsonRows(ds: DataSource, values: readonly string[], from: string, orderBy: string): string {
  if (ds.options.type === 'postgres') return `(SELECT COALESCE(json_agg(json_build_array(${values.join(', ')}) ORDER BY ${orderBy})::text, '[]') ${from})`;
  return `(SELECT json_group_array(json_array(${values.join(', ')}) ORDER BY ${orderBy}) ${from})`;
}

/** A text column holding JSON (db/columns.ts JsonColumn), placed in jsonRows() as that JSON value rather than as a string. */
export function jsonValue(ds: DataSource, column: string): string {
  return ds.options.type === 'postgres' ? `${column}::json` : `json(${column})`;
}

/** A boolean column: SQLite returns 0 or 1, PostgreSQL a boolean. */
export function rawBool(v: unknown): boolean {
  return v === true || v === 1 || v === '1';
}

/** An integer: PostgreSQL returns COUNT and bigint as a string. */
export function rawInt(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}
