import type { DataSource } from 'typeorm';
import { EXPIRING_DAYS } from '../certifications/service';
import { Certification } from '../certifications/entities';
import { DAY, type Clock } from '../clock';
import { ContractAmendment, OPEN_AMENDMENT_STATUSES } from '../contracts/entities';
import type { ContractService } from '../contracts/service';
import { SharedFigures, type WriteWatch } from '../db/write-watch';
import { Finding, OPEN_FINDING_STATUSES } from '../findings/entities';
import { Questionnaire } from '../questionnaires/entities';
import { DUE_SOON_DAYS as QUESTIONNAIRE_DUE_SOON_DAYS, GRACE_DAYS } from '../questionnaires/service';
import { SEVERITIES, type Severity } from '../questionnaires/template';
import { Vendor } from '../vendors/entities';
import { DUE_SOON_DAYS, STATUSES, type Tier, TIERS, type VendorStatus } from '../vendors/risk';

/** A YYYY-MM-DD date moved by whole days (UTC). */
function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

const num = (v: unknown) => Number(v ?? 0);

/** Every figure of the dashboard; each one matches, number for number, the filtered list it links to. */
export interface DashboardFigures {
  today: string;
  vendors: {
    total: number;
    inScope: number;
    /** In-scope vendors not assessed within their cycle: never assessed, or the next date passed. */
    outsideCycle: number;
    never: number;
    overdue: number;
    dueSoon: number;
    byTier: Record<Tier, number>;
    byStatus: Record<VendorStatus, number>;
    /** Tier by status, for the table behind the chart. */
    grid: Record<Tier, Record<VendorStatus, number>>;
  };
  questionnaires: { dueSoon: number; overdue: number; awaitingReview: number; returned: number };
  coverage: Awaited<ReturnType<ContractService['shares']>>;
  certifications: { valid: number; expiring: number; expired: number; requested: number };
  findings: {
    open: number;
    overdue: number;
    bySeverity: Record<Severity, { total: number; under_30: number; '30_to_90': number; over_90: number }>;
  };
  amendments: { open: number; overdue: number };
}

/** Every table the figures are read from: a write to any of them through this process renews the figures. */
export const DASHBOARD_TABLES = ['vendors', 'vendor_subprocessors', 'questionnaires', 'contracts', 'contract_clauses', 'certifications', 'findings', 'contract_amendments'] as const;

/** The longest the figures are reused; only changes made by another process or instance wait for it. */
export const DASHBOARD_MAX_AGE_MS = 30_000;

/**
 * The portfolio at a glance: six aggregate queries (vendors, questionnaires, clause coverage,
 * certifications, findings, amendments) whatever the number of vendors, each using the same
 * conditions as the list the figure links to.
 *
 * The figures scan whole tables, so they are computed once and shared: by the requests that arrive
 * while they are being computed, and afterwards until one of DASHBOARD_TABLES is written by this
 * process (WriteWatch), the day changes, or DASHBOARD_MAX_AGE_MS passes. A change made here is
 * therefore shown at once; one made by another instance within 30 seconds, as are the age bands.
 */
export class DashboardService {
  private readonly shared: SharedFigures<DashboardFigures>;

  constructor(private readonly d: { ds: DataSource; clock: Clock; contracts: ContractService; writes: WriteWatch }) {
    this.shared = new SharedFigures(d.writes, DASHBOARD_TABLES, d.clock, DASHBOARD_MAX_AGE_MS);
  }

  /** The figures as of now, computed or shared (see the class comment). */
  async figures(): Promise<DashboardFigures> {
    const now = this.d.clock.now();
    const today = now.toISOString().slice(0, 10);
    return this.shared.get(today, () => this.compute(now, today));
  }

  private async compute(now: Date, today: string): Promise<DashboardFigures> {
    const [vendors, questionnaires, coverage, certifications, findings, amendments] = await Promise.all([
      this.vendorFigures(today),
      this.questionnaireFigures(today, now),
      this.d.contracts.shares(),
      this.certificationFigures(today),
      this.findingFigures(today, now),
      this.amendmentFigures(today),
    ]);
    return { today, vendors, questionnaires, coverage, certifications, findings, amendments };
  }

  private async vendorFigures(today: string): Promise<DashboardFigures['vendors']> {
    const soon = addDays(today, DUE_SOON_DAYS);
    // The same conditions as VendorService.applyFilter's assessment states, restricted to vendors in scope.
    const inScope = 'v.inScope = :yes';
    const rows = await this.d.ds
      .getRepository(Vendor)
      .createQueryBuilder('v')
      .select('v.tier', 'tier')
      .addSelect('v.status', 'status')
      .addSelect('COUNT(*)', 'n')
      .addSelect(`SUM(CASE WHEN ${inScope} THEN 1 ELSE 0 END)`, 'in_scope')
      .addSelect(`SUM(CASE WHEN ${inScope} AND v.lastAssessedOn IS NULL THEN 1 ELSE 0 END)`, 'never')
      .addSelect(`SUM(CASE WHEN ${inScope} AND v.lastAssessedOn IS NOT NULL AND v.nextReassessmentOn < :today THEN 1 ELSE 0 END)`, 'overdue')
      .addSelect(`SUM(CASE WHEN ${inScope} AND v.nextReassessmentOn >= :today AND v.nextReassessmentOn <= :soon THEN 1 ELSE 0 END)`, 'due_soon')
      .setParameters({ yes: true, today, soon })
      .groupBy('v.tier')
      .addGroupBy('v.status')
      .getRawMany<Record<string, string | number>>();
    const zeroStatuses = () => Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<VendorStatus, number>;
    const out: DashboardFigures['vendors'] = {
      total: 0,
      inScope: 0,
      outsideCycle: 0,
      never: 0,
      overdue: 0,
      dueSoon: 0,
      byTier: Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>,
      byStatus: zeroStatuses(),
      grid: Object.fromEntries(TIERS.map((t) => [t, zeroStatuses()])) as Record<Tier, Record<VendorStatus, number>>,
    };
    for (const r of rows) {
      const tier = r.tier as Tier;
      const status = r.status as VendorStatus;
      const n = num(r.n);
      out.total += n;
      out.inScope += num(r.in_scope);
      out.never += num(r.never);
      out.overdue += num(r.overdue);
      out.dueSoon += num(r.due_soon);
      if (tier in out.byTier) out.byTier[tier] += n;
      if (status in out.byStatus) out.byStatus[status] += n;
      if (out.grid[tier]?.[status] !== undefined) out.grid[tier][status] += n;
    }
    out.outsideCycle = out.never + out.overdue;
    return out;
  }

  private async questionnaireFigures(today: string, now: Date): Promise<DashboardFigures['questionnaires']> {
    // The same conditions as QuestionnaireService.list: a past-due questionnaire counts as overdue while its link still works.
    const lastValidDue = new Date(now.getTime() - GRACE_DAYS * DAY).toISOString().slice(0, 10);
    const open = "q.status IN ('sent', 'in_progress', 'returned')";
    const raw = await this.d.ds
      .getRepository(Questionnaire)
      .createQueryBuilder('q')
      .select(`SUM(CASE WHEN ${open} AND q.dueDate >= :today AND q.dueDate <= :soon THEN 1 ELSE 0 END)`, 'due_soon')
      .addSelect(`SUM(CASE WHEN ${open} AND q.dueDate < :today AND q.dueDate >= :lastValidDue THEN 1 ELSE 0 END)`, 'overdue')
      .addSelect("SUM(CASE WHEN q.status = 'submitted' THEN 1 ELSE 0 END)", 'submitted')
      .addSelect("SUM(CASE WHEN q.status = 'returned' AND q.dueDate >= :lastValidDue THEN 1 ELSE 0 END)", 'returned')
      .where("q.status IN ('sent', 'in_progress', 'returned', 'submitted')")
      .setParameters({ today, soon: addDays(today, QUESTIONNAIRE_DUE_SOON_DAYS), lastValidDue })
      .getRawOne<Record<string, string | number | null>>();
    return { dueSoon: num(raw?.due_soon), overdue: num(raw?.overdue), awaitingReview: num(raw?.submitted), returned: num(raw?.returned) };
  }

  private async certificationFigures(today: string): Promise<DashboardFigures['certifications']> {
    // The same conditions as CertificationService.list's display statuses.
    const soon = addDays(today, EXPIRING_DAYS);
    const raw = await this.d.ds
      .getRepository(Certification)
      .createQueryBuilder('c')
      .select("SUM(CASE WHEN c.status = 'signed' AND (c.expiresOn IS NULL OR c.expiresOn > :soon) THEN 1 ELSE 0 END)", 'valid')
      .addSelect("SUM(CASE WHEN c.status = 'signed' AND c.expiresOn >= :today AND c.expiresOn <= :soon THEN 1 ELSE 0 END)", 'expiring')
      .addSelect("SUM(CASE WHEN c.status = 'signed' AND c.expiresOn < :today THEN 1 ELSE 0 END)", 'expired')
      .addSelect("SUM(CASE WHEN c.status = 'requested' THEN 1 ELSE 0 END)", 'requested')
      .where("c.status IN ('signed', 'requested')")
      .setParameters({ today, soon })
      .getRawOne<Record<string, string | number | null>>();
    return { valid: num(raw?.valid), expiring: num(raw?.expiring), expired: num(raw?.expired), requested: num(raw?.requested) };
  }

  private async findingFigures(today: string, now: Date): Promise<DashboardFigures['findings']> {
    // Age bands as FindingService.applyFilter draws them.
    const d30 = new Date(now.getTime() - 30 * DAY).toISOString();
    const d90 = new Date(now.getTime() - 90 * DAY).toISOString();
    const rows = await this.d.ds
      .getRepository(Finding)
      .createQueryBuilder('f')
      .select('f.severity', 'severity')
      .addSelect('COUNT(*)', 'n')
      .addSelect('SUM(CASE WHEN f.createdAt > :d30 THEN 1 ELSE 0 END)', 'under_30')
      .addSelect('SUM(CASE WHEN f.createdAt <= :d30 AND f.createdAt > :d90 THEN 1 ELSE 0 END)', 'mid')
      .addSelect('SUM(CASE WHEN f.createdAt <= :d90 THEN 1 ELSE 0 END)', 'over_90')
      .addSelect('SUM(CASE WHEN f.dueDate IS NOT NULL AND f.dueDate < :today THEN 1 ELSE 0 END)', 'overdue')
      .where('f.status IN (:...open)', { open: OPEN_FINDING_STATUSES })
      .setParameters({ d30, d90, today })
      .groupBy('f.severity')
      .getRawMany<Record<string, string | number>>();
    const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, { total: 0, under_30: 0, '30_to_90': 0, over_90: 0 }])) as DashboardFigures['findings']['bySeverity'];
    let open = 0;
    let overdue = 0;
    for (const r of rows) {
      const s = bySeverity[r.severity as Severity];
      if (!s) continue;
      s.total = num(r.n);
      s.under_30 = num(r.under_30);
      s['30_to_90'] = num(r.mid);
      s.over_90 = num(r.over_90);
      open += s.total;
      overdue += num(r.overdue);
    }
    return { open, overdue, bySeverity };
  }

  private async amendmentFigures(today: string): Promise<DashboardFigures['amendments']> {
    const raw = await this.d.ds
      .getRepository(ContractAmendment)
      .createQueryBuilder('a')
      .select('COUNT(*)', 'open')
      .addSelect('SUM(CASE WHEN a.targetDate IS NOT NULL AND a.targetDate < :today THEN 1 ELSE 0 END)', 'overdue')
      .where('a.status IN (:...open)', { open: OPEN_AMENDMENT_STATUSES, today })
      .getRawOne<Record<string, string | number | null>>();
    return { open: num(raw?.open), overdue: num(raw?.overdue) };
  }
}
