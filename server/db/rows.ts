import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { rawBool, rawQuery } from './raw';

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
  /** Per alias, each mapped column's key in a raw row ("a.col"). */
  private readonly keys = new Map<string, string[]>();

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
    // As TypeORM creates the entities of a query's result (without running the constructor).
    this.create = () => meta.create(undefined, { fromDeserializer: true }) as T;
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

  /** `"a"."col", …`: the column expressions of list(alias) without their names, for fromValues(). */
  expressions(alias: string): string[] {
    return this.mapped.map((c) => `"${alias}"."${c.column}"`);
  }

  /** The entity in a row selected with list(alias). */
  read(row: Record<string, unknown>, alias: string): T {
    let keys = this.keys.get(alias);
    if (keys === undefined) this.keys.set(alias, (keys = this.mapped.map((c) => `${alias}.${c.column}`)));
    const entity = this.create() as Record<string, unknown>;
    for (let i = 0; i < this.mapped.length; i += 1) entity[this.mapped[i]!.property] = fromColumn(this.mapped[i]!, row[keys[i]!]);
    return entity as T;
  }

  /** The entity from its column values in the order of expressions() (a row built as a JSON array in the database). */
  fromValues(values: readonly unknown[]): T {
    const entity = this.create() as Record<string, unknown>;
    for (let i = 0; i < this.mapped.length; i += 1) entity[this.mapped[i]!.property] = fromColumn(this.mapped[i]!, values[i]);
    return entity as T;
  }
}

/** A column's value as the entity holds it: booleans stored as 0/1 made booleans, then the column's transformers. */
function fromColumn(c: Mapped, raw: unknown): unknown {
  let value = c.boolean && raw !== null && raw !== undefined ? rawBool(raw) : raw;
  for (const from of c.from) value = from(value);
  return value;
}

const kept = new WeakMap<DataSource, Map<EntityTarget<ObjectLiteral>, Map<string, EntityColumns<ObjectLiteral>>>>();

/** The EntityColumns of an entity (and properties) on a DataSource, built once; found again without a metadata look-up (hot paths call this on every request). */
export function columnsOf<T extends ObjectLiteral>(ds: DataSource, entity: EntityTarget<T>, properties?: readonly (keyof T & string)[]): EntityColumns<T> {
  let byEntity = kept.get(ds);
  if (!byEntity) kept.set(ds, (byEntity = new Map()));
  let byProperties = byEntity.get(entity as EntityTarget<ObjectLiteral>);
  if (!byProperties) byEntity.set(entity as EntityTarget<ObjectLiteral>, (byProperties = new Map()));
  const key = properties?.join(',') ?? '*';
  let columns = byProperties.get(key);
  if (!columns) byProperties.set(key, (columns = new EntityColumns(ds, entity, properties) as unknown as EntityColumns<ObjectLiteral>));
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

/**
 * Inserts many rows with one multi-row INSERT per 500, inside the caller's transaction: for bulk
 * writes (the reminder sweep's rows and emails), where one statement per row, or TypeORM's insert
 * builder, costs more than the writing. Each row gives its values in `columns`' order; instants are
 * written as ISO text, as the entities store them. 500 rows of up to 60 columns stay under both
 * databases' limits on bound parameters.
 */
export async function insertRows(m: EntityManager, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> {
  const names = columns.map((c) => `"${c}"`).join(', ');
  for (let i = 0; i < rows.length; i += 500) {
    const values: Record<string, unknown> = {};
    const tuples = rows.slice(i, i + 500).map((row, n) => {
      row.forEach((v, c) => (values[`v${n}_${c}`] = v instanceof Date ? v.toISOString() : v));
      return `(${row.map((_, c) => `:v${n}_${c}`).join(', ')})`;
    });
    const [sql, params] = m.connection.driver.escapeQueryWithParameters(`INSERT INTO "${table}" (${names}) VALUES ${tuples.join(', ')}`, values, {});
    await m.query(sql, params);
  }
}
