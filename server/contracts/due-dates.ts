import { In, LessThan, LessThanOrEqual, Not, IsNull } from 'typeorm';
import type { Context } from '../context';
import { Vendor } from '../vendors/entities';
import { Contract, ContractAmendment, OPEN_AMENDMENT_STATUSES } from './entities';
import { NOTICE_LEAD_DAYS } from './labels';
import { addDays } from './service';

/** An active contract whose expiry needs attention because its notice deadline is near or passed. */
export interface ContractNoticeDue {
  /** Unique per contract and deadline, so a reminder for it is sent once (a changed expiry gives a new key). */
  key: string;
  contractId: number;
  vendorId: number;
  vendorName: string;
  title: string;
  expiresOn: string;
  noticeDays: number;
  /** The last day to give notice (expiry less the notice period). */
  noticeDeadline: string;
  autoRenews: boolean;
  /** notice_due: the deadline is within the lead time; notice_passed: too late to give notice, not expired yet; expired: still active after its expiry date. */
  state: 'notice_due' | 'notice_passed' | 'expired';
}

/** An open amendment request past its target date. */
export interface AmendmentOverdue {
  key: string;
  amendmentId: number;
  vendorId: number;
  vendorName: string;
  title: string;
  targetDate: string;
  ownerId: number | null;
  daysOverdue: number;
}

/**
 * The contract dates the reminders need on a given day: active contracts whose notice deadline is
 * at most NOTICE_LEAD_DAYS (30) days away or already passed, and open amendment requests past their
 * target date. Two indexed queries (on noticeDeadline and targetDate) plus one for vendor names.
 */
export async function contractDueDates(ctx: Pick<Context, 'ds'>, today: string): Promise<{ contracts: ContractNoticeDue[]; amendments: AmendmentOverdue[] }> {
  const [contracts, amendments] = await Promise.all([
    ctx.ds.getRepository(Contract).find({
      where: { status: 'active', noticeDeadline: LessThanOrEqual(addDays(today, NOTICE_LEAD_DAYS)), expiresOn: Not(IsNull()) },
      // Only what the reminders say: at 100,000 vendors thousands are due each day.
      select: ['id', 'vendorId', 'title', 'expiresOn', 'noticeDays', 'noticeDeadline', 'autoRenews'],
      order: { noticeDeadline: 'ASC', id: 'ASC' },
    }),
    ctx.ds.getRepository(ContractAmendment).find({
      where: { status: In(OPEN_AMENDMENT_STATUSES), targetDate: LessThan(today) },
      select: ['id', 'vendorId', 'title', 'targetDate', 'ownerId'],
      order: { targetDate: 'ASC', id: 'ASC' },
    }),
  ]);
  const vendorIds = [...new Set([...contracts.map((c) => c.vendorId), ...amendments.map((a) => a.vendorId)])];
  // In chunks: a list of every vendor's id would pass the databases' limit on bound parameters.
  const names = new Map<number, string>();
  for (let i = 0; i < vendorIds.length; i += 1000) {
    for (const v of await ctx.ds.getRepository(Vendor).find({ where: { id: In(vendorIds.slice(i, i + 1000)) }, select: ['id', 'legalName'] })) names.set(v.id, v.legalName);
  }
  return {
    contracts: contracts.map((c) => ({
      key: `contract-notice:${c.id}:${c.noticeDeadline}`,
      contractId: c.id,
      vendorId: c.vendorId,
      vendorName: names.get(c.vendorId) ?? '',
      title: c.title,
      expiresOn: c.expiresOn!,
      noticeDays: c.noticeDays ?? 0,
      noticeDeadline: c.noticeDeadline!,
      autoRenews: c.autoRenews,
      state: c.expiresOn! < today ? 'expired' : c.noticeDeadline! < today ? 'notice_passed' : 'notice_due',
    })),
    amendments: amendments.map((a) => ({
      key: `amendment-target:${a.id}:${a.targetDate}`,
      amendmentId: a.id,
      vendorId: a.vendorId,
      vendorName: names.get(a.vendorId) ?? '',
      title: a.title,
      targetDate: a.targetDate!,
      ownerId: a.ownerId,
      daysOverdue: Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${a.targetDate}T00:00:00Z`)) / 86_400_000),
    })),
  };
}
