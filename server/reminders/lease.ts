import crypto from 'node:crypto';
import os from 'node:os';
import type { DataSource } from 'typeorm';
import type { Clock } from '../clock';
import { Lease } from './entities';

/**
 * Database leases, on SQLite and PostgreSQL alike: a named row that one holder owns until it
 * expires. Taking a lease is one conditional UPDATE (or the first INSERT, guarded by the primary
 * key), so two instances asking at the same moment never both get it; a holder that dies releases
 * it by expiry.
 */
export class LeaseService {
  /** This process's name as a holder: host, pid and a random part (two contexts in one process differ). */
  readonly holder = `${os.hostname().slice(0, 60)}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Takes the lease for ttlMs if it is free or expired; false while anyone (this process too) holds it. */
  async acquire(name: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + ttlMs);
    const taken = await this.ds
      .createQueryBuilder()
      .update(Lease)
      .set({ holder: this.holder, expiresAt, acquiredAt: now })
      .where('name = :name AND expiresAt <= :now', { name, now: now.toISOString() })
      .execute();
    if (taken.affected === 1) return true;
    if ((await this.ds.getRepository(Lease).count({ where: { name } })) > 0) return false;
    try {
      await this.ds.getRepository(Lease).insert({ name, holder: this.holder, expiresAt, acquiredAt: now });
      return true;
    } catch {
      // Another instance inserted the row first: it holds the lease.
      return false;
    }
  }

  /** Gives the lease back at once (only if we still hold it), by removing its row. */
  async release(name: string): Promise<void> {
    await this.ds.createQueryBuilder().delete().from(Lease).where('name = :name AND holder = :holder', { name, holder: this.holder }).execute();
  }

  /** Runs work while holding the lease; returns null without running it when another holder has it. */
  async withLease<T>(name: string, ttlMs: number, work: () => Promise<T>): Promise<T | null> {
    if (!(await this.acquire(name, ttlMs))) return null;
    try {
      return await work();
    } finally {
      await this.release(name);
    }
  }
}
