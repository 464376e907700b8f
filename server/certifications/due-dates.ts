import { In } from 'typeorm';
import type { Context } from '../context';
import { Vendor } from '../vendors/entities';
import { Certification } from './entities';
import { addDays, OPEN_STATUSES } from './service';
import type { CertificationPurpose } from './template';

/** Where a certification in force stands against its last day: the stages reminders work from. */
export type DueStage = 'expired' | 'within_7_days' | 'within_30_days';

export interface CertificationDue {
  certificationId: number;
  vendorId: number;
  vendorName: string;
  templateId: string;
  purpose: CertificationPurpose;
  title: string;
  recipientEmail: string;
  /** Last day in force. */
  expiresOn: string;
  /** Days from today to expiresOn (negative once expired). */
  daysLeft: number;
  stage: DueStage;
  /** A newer request for the same purpose is open (requested or uploaded). */
  renewalRequested: boolean;
}

export interface CertificationDueDates {
  /** Last day in force between 8 and 30 days from today. */
  within30Days: CertificationDue[];
  /** Last day in force today or within 7 days. */
  within7Days: CertificationDue[];
  /** Last day in force before today. */
  expired: CertificationDue[];
}

/**
 * The vendors' current certifications that expire within 30 days, within 7 days, or have expired,
 * for reminders. Only the latest signed certification of each vendor and purpose counts (an older
 * one that was renewed is not due), certifications that never expire are left out, and so are
 * terminated vendors. Two queries whatever the portfolio's size.
 */
export async function certificationDueDates(ctx: Pick<Context, 'ds'>, today: string): Promise<CertificationDueDates> {
  const limit = addDays(today, 30);
  // Raw rows, not entities: at 100,000 vendors thousands are due, and hydrating them cost more than the query.
  const raw: { id: number | string; vendorId: number | string; templateId: string; purpose: CertificationPurpose; title: string; recipientEmail: string; expiresOn: string; vendorName: string }[] = await ctx.ds
    .getRepository(Certification)
    .createQueryBuilder('c')
    .innerJoin(Vendor, 'v', 'v.id = c.vendorId')
    .select('c.id', 'id')
    .addSelect('c.vendorId', 'vendorId')
    .addSelect('c.templateId', 'templateId')
    .addSelect('c.purpose', 'purpose')
    .addSelect('c.title', 'title')
    .addSelect('c.recipientEmail', 'recipientEmail')
    .addSelect('c.expiresOn', 'expiresOn')
    .addSelect('v.legalName', 'vendorName')
    .where("c.status = 'signed' AND c.expiresOn IS NOT NULL AND c.expiresOn <= :limit", { limit })
    .andWhere("v.status <> 'terminated'")
    // Raw SQL with double-quoted names reads the same on SQLite and PostgreSQL.
    .andWhere(
      `NOT EXISTS (SELECT 1 FROM "certifications" "n" WHERE "n"."vendorId" = "c"."vendorId" AND "n"."purpose" = "c"."purpose" AND "n"."status" = 'signed'
        AND ("n"."expiresOn" IS NULL OR "n"."expiresOn" > "c"."expiresOn" OR ("n"."expiresOn" = "c"."expiresOn" AND "n"."id" > "c"."id")))`,
    )
    .orderBy('c.expiresOn', 'ASC')
    .addOrderBy('c.id', 'ASC')
    .getRawMany();
  const rows = raw.map((r) => ({ ...r, id: Number(r.id), vendorId: Number(r.vendorId) }));
  const vendorIds = [...new Set(rows.map((c) => c.vendorId))];
  // In chunks: a list of every vendor's id would pass the databases' limit on bound parameters.
  const open: Pick<Certification, 'id' | 'vendorId' | 'purpose'>[] = [];
  for (let i = 0; i < vendorIds.length; i += 1000) {
    open.push(...(await ctx.ds.getRepository(Certification).find({ where: { vendorId: In(vendorIds.slice(i, i + 1000)), status: In(OPEN_STATUSES) }, select: ['id', 'vendorId', 'purpose'] })));
  }
  const renewing = new Set(open.map((o) => `${o.vendorId}:${o.purpose}`));
  const soon = addDays(today, 7);
  const todayMs = Date.parse(`${today}T00:00:00Z`);
  const out: CertificationDueDates = { within30Days: [], within7Days: [], expired: [] };
  for (const c of rows) {
    const expiresOn = c.expiresOn;
    const stage: DueStage = expiresOn < today ? 'expired' : expiresOn <= soon ? 'within_7_days' : 'within_30_days';
    const due: CertificationDue = {
      certificationId: c.id,
      vendorId: c.vendorId,
      vendorName: c.vendorName ?? '',
      templateId: c.templateId,
      purpose: c.purpose,
      title: c.title,
      recipientEmail: c.recipientEmail,
      expiresOn,
      daysLeft: Math.round((Date.parse(`${expiresOn}T00:00:00Z`) - todayMs) / 86_400_000),
      stage,
      renewalRequested: renewing.has(`${c.vendorId}:${c.purpose}`),
    };
    (stage === 'expired' ? out.expired : stage === 'within_7_days' ? out.within7Days : out.within30Days).push(due);
  }
  return out;
}
