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
    const held = await this.ds.getRepository(Lease).findOne({ where: { name }, select: ['name', 'holder'] });
    if (held) {
      if (!this.diedHere(held.holder)) return false;
      // Its holder was a process of this machine that is gone (killed mid-sweep): take it over at
      // once instead of waiting for it to expire, guarded by the holder's name.
      const takenOver = await this.ds
        .createQueryBuilder()
        .update(Lease)
        .set({ holder: this.holder, expiresAt, acquiredAt: now })
        .where('name = :name AND holder = :holder', { name, holder: held.holder })
        .execute();
      return takenOver.affected === 1;
    }
    try {
      await this.ds.getRepository(Lease).insert({ name, holder: this.holder, expiresAt, acquiredAt: now });
      return true;
    } catch {
      // Another instance inserted the row first: it holds the lease.
      return false;
    }
  }

  /**
   * Whether a holder name belongs to a process of this host that no longer exists. Other hosts, and
   * any doubt, count as alive. (Were a live holder in another container with the same host name
   * taken for dead, two sweeps would run at once, which the reminders' unique keys make harmless.)
   */
  private diedHere(holder: string): boolean {
    const parts = holder.split(':');
    const pid = Number(parts[parts.length - 2]);
    if (parts.slice(0, -2).join(':') !== os.hostname().slice(0, 60) || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
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
