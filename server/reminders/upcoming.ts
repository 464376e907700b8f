import type { Role } from '../accounts/entities';
import { Certification } from '../certifications/entities';
import type { Context } from '../context';
import { Contract, ContractAmendment, OPEN_AMENDMENT_STATUSES } from '../contracts/entities';
import { Finding, OPEN_FINDING_STATUSES } from '../findings/entities';
import { Questionnaire } from '../questionnaires/entities';
import { Vendor } from '../vendors/entities';

export const UPCOMING_TYPES = ['questionnaire', 'reassessment', 'certification', 'contract', 'amendment', 'finding'] as const;
export type UpcomingType = (typeof UPCOMING_TYPES)[number];

export const UPCOMING_TYPE_LABELS: Record<UpcomingType, string> = {
  questionnaire: 'Questionnaires due',
  reassessment: 'Reassessments due',
  certification: 'Certifications expiring',
  contract: 'Contract notice deadlines and expiries',
  amendment: 'Amendment target dates',
  finding: 'Finding remediation dates and risk acceptances',
};

/** What each role's calendar feed holds by default: the dates that role acts on. */
export const CALENDAR_TYPES: Record<Role, readonly UpcomingType[]> = {
  admin: UPCOMING_TYPES,
  viewer: UPCOMING_TYPES,
  procurement: ['questionnaire', 'reassessment', 'contract'],
  legal: ['certification', 'contract', 'amendment'],
  reviewer: ['questionnaire', 'finding'],
};

/** One dated obligation across the portfolio. */
export interface UpcomingItem {
  /** Stable across calls (the calendar event's UID). */
  uid: string;
  date: string;
  type: UpcomingType;
  what: string;
  title: string;
  vendorId: number;
  vendorName: string;
  path: string;
}

interface Source {
  type: UpcomingType;
  load(ctx: Context, from: string, to: string, limit: number): Promise<UpcomingItem[]>;
}

type Raw = Record<string, string | number>;
const str = (v: unknown) => String(v ?? '');
const num = (v: unknown) => Number(v);

/** Each source is one indexed range query on its date column, joined to the vendor's name. */
const SOURCES: Source[] = [
  {
    type: 'questionnaire',
    load: async (ctx, from, to, limit) =>
      (
        await ctx.ds.getRepository(Questionnaire).createQueryBuilder('q').innerJoin(Vendor, 'v', 'v.id = q.vendorId')
          .select(['q.id AS id', 'q.dueDate AS date', 'q.title AS title', 'q.recipientEmail AS who', 'v.id AS vid', 'v.legalName AS vname'])
          .where('q.status IN (:...owed) AND q.dueDate >= :from AND q.dueDate <= :to', { owed: ['sent', 'in_progress', 'returned'], from, to })
          .orderBy('q.dueDate', 'ASC').addOrderBy('q.id', 'ASC').limit(limit).getRawMany<Raw>()
      ).map((r) => ({ uid: `questionnaire-${num(r.id)}-${str(r.date)}`, date: str(r.date), type: 'questionnaire', what: 'Questionnaire due', title: `${str(r.title)} (${str(r.who)})`, vendorId: num(r.vid), vendorName: str(r.vname), path: `/questionnaires/${num(r.id)}` })),
  },
  {
    type: 'reassessment',
    load: async (ctx, from, to, limit) =>
      (
        await ctx.ds.getRepository(Vendor).createQueryBuilder('v')
          .select(['v.id AS vid', 'v.legalName AS vname', 'v.nextReassessmentOn AS date', 'v.tier AS tier'])
          .where("v.status = 'active' AND v.nextReassessmentOn >= :from AND v.nextReassessmentOn <= :to", { from, to })
          .orderBy('v.nextReassessmentOn', 'ASC').addOrderBy('v.id', 'ASC').limit(limit).getRawMany<Raw>()
      ).map((r) => ({ uid: `reassessment-${num(r.vid)}-${str(r.date)}`, date: str(r.date), type: 'reassessment', what: 'Reassessment due', title: `${str(r.tier)} tier`, vendorId: num(r.vid), vendorName: str(r.vname), path: `/vendors/${num(r.vid)}` })),
  },
  {
    type: 'certification',
    load: async (ctx, from, to, limit) =>
      (
        await ctx.ds.getRepository(Certification).createQueryBuilder('c').innerJoin(Vendor, 'v', 'v.id = c.vendorId')
          .select(['c.id AS id', 'c.expiresOn AS date', 'c.title AS title', 'v.id AS vid', 'v.legalName AS vname'])
          .where("c.status = 'signed' AND c.expiresOn >= :from AND c.expiresOn <= :to AND v.status <> 'terminated'", { from, to })
          .orderBy('c.expiresOn', 'ASC').addOrderBy('c.id', 'ASC').limit(limit).getRawMany<Raw>()
      ).map((r) => ({ uid: `certification-${num(r.id)}-${str(r.date)}`, date: str(r.date), type: 'certification', what: 'Certification expires', title: str(r.title), vendorId: num(r.vid), vendorName: str(r.vname), path: `/certifications/${num(r.id)}` })),
  },
  {
    type: 'contract',
    load: async (ctx, from, to, limit) => {
      const base = () => ctx.ds.getRepository(Contract).createQueryBuilder('c').innerJoin(Vendor, 'v', 'v.id = c.vendorId').where("c.status = 'active'");
      const [notices, expiries] = await Promise.all([
        base().select(['c.id AS id', 'c.noticeDeadline AS date', 'c.title AS title', 'c.noticeDays AS days', 'v.id AS vid', 'v.legalName AS vname'])
          .andWhere('c.noticeDays > 0 AND c.noticeDeadline >= :from AND c.noticeDeadline <= :to', { from, to })
          .orderBy('c.noticeDeadline', 'ASC').addOrderBy('c.id', 'ASC').limit(limit).getRawMany<Raw>(),
        base().select(['c.id AS id', 'c.expiresOn AS date', 'c.title AS title', 'v.id AS vid', 'v.legalName AS vname'])
          .andWhere('c.expiresOn >= :from AND c.expiresOn <= :to', { from, to })
          .orderBy('c.expiresOn', 'ASC').addOrderBy('c.id', 'ASC').limit(limit).getRawMany<Raw>(),
      ]);
      return [
        ...notices.map((r) => ({ uid: `contract-notice-${num(r.id)}-${str(r.date)}`, date: str(r.date), type: 'contract' as const, what: `Last day to give ${num(r.days)} days' notice`, title: str(r.title), vendorId: num(r.vid), vendorName: str(r.vname), path: `/contracts/${num(r.id)}` })),
        ...expiries.map((r) => ({ uid: `contract-expiry-${num(r.id)}-${str(r.date)}`, date: str(r.date), type: 'contract' as const, what: 'Contract expires', title: str(r.title), vendorId: num(r.vid), vendorName: str(r.vname), path: `/contracts/${num(r.id)}` })),
      ];
    },
  },
  {
    type: 'amendment',
    load: async (ctx, from, to, limit) =>
      (
        await ctx.ds.getRepository(ContractAmendment).createQueryBuilder('a').innerJoin(Vendor, 'v', 'v.id = a.vendorId')
          .select(['a.id AS id', 'a.targetDate AS date', 'a.title AS title', 'v.id AS vid', 'v.legalName AS vname'])
          .where('a.status IN (:...open) AND a.targetDate >= :from AND a.targetDate <= :to', { open: OPEN_AMENDMENT_STATUSES, from, to })
          .orderBy('a.targetDate', 'ASC').addOrderBy('a.id', 'ASC').limit(limit).getRawMany<Raw>()
      ).map((r) => ({ uid: `amendment-${num(r.id)}-${str(r.date)}`, date: str(r.date), type: 'amendment', what: 'Amendment target date', title: str(r.title), vendorId: num(r.vid), vendorName: str(r.vname), path: `/contracts/amendments/${num(r.id)}` })),
  },
  {
    type: 'finding',
    load: async (ctx, from, to, limit) => {
      const base = () => ctx.ds.getRepository(Finding).createQueryBuilder('f').innerJoin(Vendor, 'v', 'v.id = f.vendorId');
      const [due, accepted] = await Promise.all([
        base().select(['f.id AS id', 'f.dueDate AS date', 'f.title AS title', 'f.severity AS severity', 'v.id AS vid', 'v.legalName AS vname'])
          .where('f.status IN (:...open) AND f.dueDate >= :from AND f.dueDate <= :to', { open: OPEN_FINDING_STATUSES, from, to })
          .orderBy('f.dueDate', 'ASC').addOrderBy('f.id', 'ASC').limit(limit).getRawMany<Raw>(),
        base().select(['f.id AS id', 'f.riskAcceptanceExpiresOn AS date', 'f.title AS title', 'f.severity AS severity', 'v.id AS vid', 'v.legalName AS vname'])
          .where("f.status = 'risk_accepted' AND f.riskAcceptanceExpiresOn >= :from AND f.riskAcceptanceExpiresOn <= :to", { from, to })
          .orderBy('f.riskAcceptanceExpiresOn', 'ASC').addOrderBy('f.id', 'ASC').limit(limit).getRawMany<Raw>(),
      ]);
      return [
        ...due.map((r) => ({ uid: `finding-${num(r.id)}-${str(r.date)}`, date: str(r.date), type: 'finding' as const, what: `Remediation due (${str(r.severity)})`, title: str(r.title), vendorId: num(r.vid), vendorName: str(r.vname), path: `/findings/${num(r.id)}` })),
        ...accepted.map((r) => ({ uid: `risk-acceptance-${num(r.id)}-${str(r.date)}`, date: str(r.date), type: 'finding' as const, what: 'Risk acceptance lapses', title: str(r.title), vendorId: num(r.vid), vendorName: str(r.vname), path: `/findings/${num(r.id)}` })),
      ];
    },
  },
];

/**
 * The dated obligations between two days, earliest first, across the chosen kinds. A page of the
 * merged list needs at most offset + limit rows of each source, so deep pages stay cheap enough and
 * the first pages cost a handful of indexed queries.
 */
export async function upcoming(ctx: Context, range: { from: string; to: string }, types: readonly UpcomingType[], page: { offset: number; limit: number }): Promise<{ items: UpcomingItem[]; hasMore: boolean }> {
  const need = page.offset + page.limit + 1;
  const lists = await Promise.all(SOURCES.filter((s) => types.includes(s.type)).map((s) => s.load(ctx, range.from, range.to, need)));
  const merged = lists.flat().sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.uid < b.uid ? -1 : 1));
  return { items: merged.slice(page.offset, page.offset + page.limit), hasMore: merged.length > page.offset + page.limit };
}
