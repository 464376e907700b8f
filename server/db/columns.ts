import { Column, type ColumnOptions, type ValueTransformer } from 'typeorm';
import type { TableColumnOptions } from 'typeorm/schema-builder/options/TableColumnOptions';

/**
 * Instants are stored as UTC ISO-8601 text ("2026-11-22T08:00:00.000Z"): the same on SQLite and
 * PostgreSQL, readable in either, and ordered correctly by plain text comparison.
 */
const isoTransformer: ValueTransformer = {
  to: (value: Date | null | undefined) => (value instanceof Date ? value.toISOString() : value),
  from: (value: string | null) => (value == null ? value : new Date(value)),
};

/** Entity column holding an instant (Date in code, ISO text in the database). */
export function TimestampColumn(options: Pick<ColumnOptions, 'nullable' | 'name'> = {}): PropertyDecorator {
  return Column({ type: 'varchar', length: 24, transformer: isoTransformer, ...options });
}

/** Entity column holding a JSON value as text. */
export function JsonColumn(options: Pick<ColumnOptions, 'nullable' | 'name'> = {}): PropertyDecorator {
  return Column({
    type: 'text',
    transformer: {
      to: (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v)),
      from: (v: string | null) => (v == null ? null : (JSON.parse(v) as unknown)),
    },
    ...options,
  });
}

/** Migration column helpers, so every migration spells the portable types the same way. */
export const col = {
  id: (name = 'id'): TableColumnOptions => ({
    name,
    type: 'integer',
    isPrimary: true,
    isGenerated: true,
    generationStrategy: 'increment',
  }),
  int: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'integer', ...extra }),
  text: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'text', ...extra }),
  varchar: (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: String(length),
    ...extra,
  }),
  bool: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'boolean', ...extra }),
  timestamp: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: '24',
    ...extra,
  }),
};
