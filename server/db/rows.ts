import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { rawQuery } from './raw';

interface Mapped {
  property: string;
  column: string;
  boolean: boolean;
  from: ((v: unknown) => unknown)[];
}

/**
 * An entity's columns for plain SQL: the select list for an alias, and the mapping of a raw row back
 * to an entity instance through the entity's own column metadata (value transformers, booleans
 * stored as 0/1 on SQLite). For reads made on every request or page, where building a TypeORM query
 * and hydrating its result costs more than the query itself (run them with rawQuery, db/raw.ts).
 * Columns only, never relations.
 */
export class EntityColumns<T extends ObjectLiteral> {
  readonly table: string;
  private readonly mapped: Mapped[];
  private readonly create: () => T;
  private readonly lists = new Map<string, string>();

  constructor(ds: DataSource, entity: EntityTarget<T>, properties?: readonly (keyof T & string)[]) {
    const meta = ds.getMetadata(entity);
    const columns = properties ? properties.map((p) => meta.findColumnWithPropertyName(p) ?? missing(meta.name, p)) : meta.columns;
    this.table = meta.tableName;
    this.mapped = columns.map((c) => ({
      property: c.propertyName,
      column: c.databaseName,
      boolean: c.type === 'boolean' || c.type === Boolean,
      from: (c.transformer === undefined ? [] : Array.isArray(c.transformer) ? [...c.transformer].reverse() : [c.transformer]).map((t) => t.from.bind(t) as (v: unknown) => unknown),
    }));
    this.create = () => meta.create() as T;
  }

  /** `"a"."col" AS "a.col", …` for the alias; read() takes such a row back. */
  list(alias: string): string {
    let text = this.lists.get(alias);
    if (text === undefined) {
      text = this.mapped.map((c) => `"${alias}"."${c.column}" AS "${alias}.${c.column}"`).join(', ');
      this.lists.set(alias, text);
    }
    return text;
  }

  /** The entity in a row selected with list(alias). */
  read(row: Record<string, unknown>, alias: string): T {
    const entity = this.create() as Record<string, unknown>;
    for (const c of this.mapped) {
      let value = row[`${alias}.${c.column}`];
      if (c.boolean && value !== null && value !== undefined) value = value === true || value === 1 || value === '1';
      for (const from of c.from) value = from(value);
      entity[c.property] = value;
    }
    return entity as T;
  }
}

const kept = new WeakMap<DataSource, Map<string, EntityColumns<ObjectLiteral>>>();

/** The EntityColumns of an entity (and properties) on a DataSource, built once. */
export function columnsOf<T extends ObjectLiteral>(ds: DataSource, entity: EntityTarget<T>, properties?: readonly (keyof T & string)[]): EntityColumns<T> {
  let byKey = kept.get(ds);
  if (!byKey) kept.set(ds, (byKey = new Map()));
  const key = `${ds.getMetadata(entity).name}:${properties?.join(',') ?? '*'}`;
  let columns = byKey.get(key);
  if (!columns) byKey.set(key, (columns = new EntityColumns(ds, entity, properties) as unknown as EntityColumns<ObjectLiteral>));
  return columns as unknown as EntityColumns<T>;
}

function missing(entity: string, property: string): never {
  throw new Error(`${entity} has no column ${property}`);
}

/** Reads one entity by its id with one SQL text (prepared once on SQLite's readers). */
export class ByIdReader<T extends ObjectLiteral> {
  private readonly columns: EntityColumns<T>;
  private readonly sql: string;

  constructor(
    private readonly ds: DataSource,
    entity: EntityTarget<T>,
  ) {
    this.columns = new EntityColumns(ds, entity);
    const id = ds.getMetadata(entity).primaryColumns[0]!.databaseName;
    this.sql = `SELECT ${this.columns.list('e')} FROM "${this.columns.table}" "e" WHERE "e"."${id}" = :id`;
  }

  async find(id: number): Promise<T | null> {
    const [row] = await rawQuery<Record<string, unknown>>(this.ds, this.sql, { id });
    return row ? this.columns.read(row, 'e') : null;
  }
}

/**
 * Inserts one row in a single INSERT, nothing read back: for rows written on busy paths (an answer,
 * its history, an audit entry), where save()'s persistence planning costs more than the statement.
 * Column transformers apply as with save(); the row's generated id is not needed.
 */
export async function insertRow<T extends ObjectLiteral>(m: EntityManager, entity: EntityTarget<T>, values: QueryDeepPartialEntity<T>): Promise<void> {
  await m.createQueryBuilder().insert().into(entity).values(values).updateEntity(false).execute();
}
