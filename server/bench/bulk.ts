import type { DataSource, QueryRunner } from 'typeorm';

/** One row of values, in the order of the columns given to BulkWriter.insert. */
export type Row = (string | number | boolean | null)[];

/**
 * Multi-row INSERTs for generating large data sets fast: one statement per chunk of rows, every
 * chunk of one table in one transaction. Chunks stay under the database's limit on bound
 * parameters (SQLite: 32,766 since 3.32, 999 before; PostgreSQL: 65,535).
 */
export class BulkWriter {
  private constructor(
    private readonly ds: DataSource,
    private readonly maxParams: number,
  ) {}

  /** Reads the database's parameter limit once. */
  static async open(ds: DataSource): Promise<BulkWriter> {
    if (ds.options.type === 'postgres') return new BulkWriter(ds, 65_000);
    const [{ v }] = (await ds.query('SELECT sqlite_version() AS v')) as { v: string }[];
    const [major, minor] = v.split('.').map(Number);
    return new BulkWriter(ds, major! > 3 || (major === 3 && minor! >= 32) ? 32_000 : 999);
  }

  get postgres(): boolean {
    return this.ds.options.type === 'postgres';
  }

  /** Inserts rows given by a generator, chunked, in one transaction; returns how many were written. */
  async insert(table: string, columns: string[], rows: Iterable<Row>): Promise<number> {
    const perChunk = Math.max(1, Math.floor(this.maxParams / columns.length));
    const head = `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES `;
    const qr = this.ds.createQueryRunner();
    let written = 0;
    try {
      await qr.startTransaction();
      let chunk: Row[] = [];
      for (const row of rows) {
        chunk.push(row);
        if (chunk.length === perChunk) {
          written += await this.flush(qr, head, columns.length, chunk);
          chunk = [];
        }
      }
      if (chunk.length) written += await this.flush(qr, head, columns.length, chunk);
      await qr.commitTransaction();
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction();
      throw err;
    } finally {
      await qr.release();
    }
    return written;
  }

  /** After rows were inserted with explicit ids, PostgreSQL's sequence must move past them. */
  async syncSequence(table: string): Promise<void> {
    if (!this.postgres) return;
    await this.ds.query(`SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), COALESCE((SELECT MAX(id) FROM "${table}"), 0) + 1, false)`);
  }

  private async flush(qr: QueryRunner, head: string, width: number, chunk: Row[]): Promise<number> {
    const params: Row = [];
    const groups: string[] = [];
    let n = 0;
    for (const row of chunk) {
      if (row.length !== width) throw new Error(`a row has ${row.length} values for ${width} columns`);
      const marks: string[] = [];
      for (const value of row) {
        params.push(value);
        marks.push(this.postgres ? `$${++n}` : '?');
      }
      groups.push(`(${marks.join(',')})`);
    }
    await qr.query(head + groups.join(','), params);
    return chunk.length;
  }
}
