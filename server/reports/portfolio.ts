import { In } from 'typeorm';
import { Certification } from '../certifications/entities';
import { EXPIRING_DAYS } from '../certifications/service';
import { DAY } from '../clock';
import type { Context } from '../context';
import { Finding, OPEN_FINDING_STATUSES } from '../findings/entities';
import { SEVERITIES, type Severity } from '../questionnaires/template';
import { Vendor } from '../vendors/entities';
import { STATUS_LABELS, TIER_LABELS } from '../vendors/risk';
import { utc, writer } from './pdf';

/** One in-scope vendor and its compliance state on the report's date. */
export interface PortfolioRow {
  id: number;
  legalName: string;
  status: string;
  tier: string;
  lastAssessedOn: string | null;
  nextDueOn: string | null;
  withinCycle: boolean;
  /** no_contract | complete | gaps | not_reviewed | no_clauses */
  coverage: string;
  coveragePercent: number | null;
  clauseGaps: string[];
  /** valid | expiring | expired | none */
  certification: string;
  certificationExpiresOn: string | null;
  openFindings: Record<Severity, number>;
}

export const PORTFOLIO_COLUMNS = [
  'vendor_id',
  'legal_name',
  'status',
  'tier',
  'last_assessed_on',
  'next_due_on',
  'within_cycle',
  'contract_coverage',
  'coverage_percent',
  'clause_gaps',
  'certification',
  'certification_expires_on',
  ...SEVERITIES.map((s) => `open_findings_${s}`),
] as const;

/** A portfolio row as CSV cells. */
export function portfolioCsvRow(r: PortfolioRow): Record<string, string | number> {
  const row: Record<string, string | number> = {
    vendor_id: r.id,
    legal_name: r.legalName,
    status: r.status,
    tier: r.tier,
    last_assessed_on: r.lastAssessedOn ?? '',
    next_due_on: r.nextDueOn ?? '',
    within_cycle: r.withinCycle ? 'yes' : 'no',
    contract_coverage: r.coverage,
    coverage_percent: r.coveragePercent ?? '',
    clause_gaps: r.clauseGaps.join(';'),
    certification: r.certification,
    certification_expires_on: r.certificationExpiresOn ?? '',
  };
  for (const s of SEVERITIES) row[`open_findings_${s}`] = r.openFindings[s];
  return row;
}

const BATCH = 500;
const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

/**
 * The in-scope vendors (service providers under 201 CMR 17.02) and their state on `on`, a batch of
 * 500 at a time, by name: four queries per batch whatever its size. Dates are judged on `on`; the
 * vendor's record (scope, tier, last assessment, contracts) is as it stands now, certifications count
 * only if signed by the end of that day, and findings only if recorded by then and still open.
 */
export async function* portfolioRows(ctx: Context, on: string): AsyncGenerator<PortfolioRow[]> {
  const endOfDay = new Date(`${on}T23:59:59.999Z`);
  let lastKey: { name: string; id: number } | null = null;
  for (;;) {
    const qb = ctx.ds.getRepository(Vendor).createQueryBuilder('v').where('v.inScope = :yes', { yes: true });
    if (lastKey) qb.andWhere('(v.legalNameKey > :lastName OR (v.legalNameKey = :lastName AND v.id > :lastId))', { lastName: lastKey.name, lastId: lastKey.id });
    const vendors = await qb.orderBy('v.legalNameKey', 'ASC').addOrderBy('v.id', 'ASC').limit(BATCH).getMany();
    if (vendors.length === 0) return;
    const ids = vendors.map((v) => v.id);
    const [states, certifications, findings] = await Promise.all([
      ctx.contracts.vendorStates(ids),
      ctx.ds.getRepository(Certification).find({
        where: { vendorId: In(ids), purpose: 'annual', status: 'signed' },
        select: ['id', 'vendorId', 'signedAt', 'expiresOn'],
      }),
      ctx.ds
        .getRepository(Finding)
        .createQueryBuilder('f')
        .select('f.vendorId', 'vendorId')
        .addSelect('f.severity', 'severity')
        .addSelect('COUNT(*)', 'n')
        .where('f.vendorId IN (:...ids)', { ids })
        .andWhere('f.status IN (:...open)', { open: OPEN_FINDING_STATUSES })
        .andWhere('f.createdAt <= :end', { end: endOfDay.toISOString() })
        .groupBy('f.vendorId')
        .addGroupBy('f.severity')
        .getRawMany<{ vendorId: number | string; severity: Severity; n: number | string }>(),
    ]);
    const rows = vendors.map((v): PortfolioRow => {
      const s = states.get(v.id);
      const clauseStates = s ? [...s.states.entries()] : [];
      const counted = clauseStates.filter(([, x]) => x !== 'not_applicable');
      const gaps = counted.filter(([, x]) => x !== 'present').map(([id]) => id);
      const coverage = counted.length === 0 ? 'no_clauses' : !s || s.activeContracts === 0 ? 'no_contract' : gaps.length === 0 ? 'complete' : counted.some(([, x]) => x === 'missing' || x === 'partial') ? 'gaps' : 'not_reviewed';
      // The signed annual certification in force on the day, the one lasting longest first.
      const mine = certifications.filter((c) => c.vendorId === v.id && c.signedAt && c.signedAt <= endOfDay);
      const inForce = mine.filter((c) => !c.expiresOn || c.expiresOn >= on).sort((a, b) => (b.expiresOn ?? '9999').localeCompare(a.expiresOn ?? '9999'))[0];
      const lapsed = mine.sort((a, b) => (b.expiresOn ?? '').localeCompare(a.expiresOn ?? ''))[0];
      const certification = inForce ? (inForce.expiresOn && inForce.expiresOn <= addDays(on, EXPIRING_DAYS) ? 'expiring' : 'valid') : lapsed ? 'expired' : 'none';
      const openFindings = Object.fromEntries(SEVERITIES.map((x) => [x, 0])) as Record<Severity, number>;
      for (const f of findings) if (Number(f.vendorId) === v.id && f.severity in openFindings) openFindings[f.severity] = Number(f.n);
      return {
        id: v.id,
        legalName: v.legalName,
        status: v.status,
        tier: v.tier,
        lastAssessedOn: v.lastAssessedOn,
        nextDueOn: v.nextReassessmentOn,
        withinCycle: !!v.lastAssessedOn && v.lastAssessedOn <= on && (v.nextReassessmentOn === null || v.nextReassessmentOn >= on),
        coverage,
        coveragePercent: counted.length ? Math.floor((100 * (counted.length - gaps.length)) / counted.length) : null,
        clauseGaps: gaps,
        certification,
        certificationExpiresOn: (inForce ?? lapsed)?.expiresOn ?? null,
        openFindings,
      };
    });
    yield rows;
    if (vendors.length < BATCH) return;
    const last = vendors[vendors.length - 1]!;
    lastKey = { name: last.legalNameKey, id: last.id };
  }
}

const COVERAGE_WORDS: Record<string, string> = {
  no_clauses: 'no clause applies',
  no_contract: 'no active contract',
  complete: 'every clause present',
  gaps: 'gaps',
  not_reviewed: 'not fully reviewed',
};

/** The portfolio report written into `doc` as the rows arrive: one entry per in-scope vendor by name, then the totals. */
export async function writePortfolioPdf(ctx: Context, doc: PDFKit.PDFDocument, on: string): Promise<void> {
  const w = writer(doc);
  const now = ctx.clock.now();
  w.small(`${ctx.config.organizationName} · portfolio report · produced by Oversight on ${utc(now)}`);
  w.gap(0.6);
  w.title(`Vendor oversight on ${on}`);
  w.para(
    'Every vendor with access to personal information of Massachusetts residents (a service provider under 201 CMR 17.02), and where it stands under 201 CMR 17.03(2)(f): assessed within its cycle, bound by contract, certified in writing, and its open findings. Dates are judged on the report date; scope, tier, last assessment and contracts are as recorded today.',
  );
  w.gap();
  let total = 0;
  let within = 0;
  let complete = 0;
  for await (const rows of portfolioRows(ctx, on)) {
    for (const r of rows) {
      total += 1;
      if (r.withinCycle) within += 1;
      if (r.coverage === 'complete') complete += 1;
      const findings = SEVERITIES.map((s) => `${s} ${r.openFindings[s]}`).join(', ');
      w.h2(`${r.legalName} (#${r.id})`);
      w.para(`${STATUS_LABELS[r.status as keyof typeof STATUS_LABELS] ?? r.status} · tier ${TIER_LABELS[r.tier as keyof typeof TIER_LABELS] ?? r.tier} · ${r.withinCycle ? 'assessed within its cycle' : 'NOT assessed within its cycle'} (last ${r.lastAssessedOn ?? 'never'}, next due ${r.nextDueOn ?? '—'})`);
      w.para(`Contract coverage: ${COVERAGE_WORDS[r.coverage] ?? r.coverage}${r.coveragePercent === null ? '' : ` (${r.coveragePercent}%)`}${r.clauseGaps.length ? `; not covered: ${r.clauseGaps.join(', ')}` : ''} · certification: ${r.certification}${r.certificationExpiresOn ? ` (until ${r.certificationExpiresOn})` : ''} · open findings: ${findings}`);
    }
  }
  w.h1('Totals');
  w.field('Vendors in scope', total);
  w.field('Assessed within their cycle', `${within} of ${total}`);
  w.field('Every applicable clause present', `${complete} of ${total}`);
  if (total === 0) w.para('No vendor is in scope.');
}
