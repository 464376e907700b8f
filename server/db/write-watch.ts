import type { DataSource, QueryRunner, ReplicationMode } from 'typeorm';

/** The table an INSERT, UPDATE or DELETE statement writes, as TypeORM and the services spell them. */
const WRITE = /^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?([A-Za-z_]\w*)"?/i;
const TRANSACTION_END = /^\s*(?:COMMIT|ROLLBACK)\b/i;

/**
 * Notices every write this process makes through one DataSource, per table, so that a cache of
 * figures read from those tables can tell it is out of date. A table's counter moves when a
 * statement writes it and again when the transaction around that write ends (commit or rollback),
 * so figures computed while the write was still open are not kept either. Writes by other
 * processes or instances are not seen: a cache using this must also have a maximum age.
 */
export class WriteWatch {
  private readonly counters = new Map<string, number>();
  /** Tables written since the last COMMIT or ROLLBACK seen. */
  private readonly open = new Set<string>();

  constructor(ds: DataSource) {
    const driver = ds.driver;
    const create = driver.createQueryRunner.bind(driver);
    const watched = new WeakSet<QueryRunner>();
    // SQLite hands out one shared runner and PostgreSQL a new one each time: each is wrapped once.
    driver.createQueryRunner = (mode: ReplicationMode) => {
      const qr = create(mode);
      if (!watched.has(qr)) {
        watched.add(qr);
        const query = qr.query.bind(qr);
        qr.query = (async (sql: string, ...rest: unknown[]) => {
          const table = WRITE.exec(sql)?.[1];
          if (table) this.bump(table);
          const ended = TRANSACTION_END.test(sql);
          try {
            return (await (query as (sql: string, ...rest: unknown[]) => Promise<unknown>)(sql, ...rest)) as unknown;
          } finally {
            if (ended) this.endTransaction();
          }
        }) as QueryRunner['query'];
      }
      return qr;
    };
  }

  /** A number that changes whenever one of these tables is written (or a transaction writing it ends). */
  generation(tables: readonly string[]): number {
    let n = 0;
    for (const t of tables) n += this.counters.get(t) ?? 0;
    return n;
  }

  private bump(table: string): void {
    this.counters.set(table, (this.counters.get(table) ?? 0) + 1);
    this.open.add(table);
  }

  private endTransaction(): void {
    for (const t of this.open) this.counters.set(t, (this.counters.get(t) ?? 0) + 1);
    this.open.clear();
  }
}

/**
 * Figures read from whole tables, computed once and shared: by the callers that ask while they are
 * being computed, and afterwards until one of `tables` is written through this process, the key
 * changes (the day, a catalogue version) or `maxAgeMs` passes on the clock. Figures computed while
 * a write happened are returned to their callers but not kept.
 */
export class SharedFigures<T> {
  private kept: { generation: number; key: string; at: number; value: T } | null = null;
  private computing: { generation: number; key: string; value: Promise<T> } | null = null;

  constructor(
    private readonly writes: WriteWatch,
    private readonly tables: readonly string[],
    private readonly clock: { now(): Date },
    private readonly maxAgeMs: number,
  ) {}

  /** The kept figures when still current, else those being computed, else newly computed ones. */
  async get(key: string, compute: () => Promise<T>): Promise<T> {
    const now = this.clock.now().getTime();
    const generation = this.writes.generation(this.tables);
    const k = this.kept;
    if (k && k.generation === generation && k.key === key && now >= k.at && now - k.at < this.maxAgeMs) return k.value;
    if (this.computing && this.computing.generation === generation && this.computing.key === key) return this.computing.value;
    const entry = { generation, key, value: compute() };
    this.computing = entry;
    try {
      const value = await entry.value;
      if (this.writes.generation(this.tables) === generation) this.kept = { generation, key, at: now, value };
      return value;
    } finally {
      if (this.computing === entry) this.computing = null;
    }
  }
}
