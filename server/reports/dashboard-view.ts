import type { Role } from '../accounts/entities';
import { AGE_BAND_LABELS, FINDING_AGE_BANDS, SEVERITY_LABELS } from '../findings/service';
import { DUE_SOON_DAYS as QUESTIONNAIRE_DUE_SOON_DAYS } from '../questionnaires/service';
import { SEVERITIES } from '../questionnaires/template';
import { STATUS_LABELS, STATUSES, TIER_LABELS, TIERS } from '../vendors/risk';
import { barChart } from './charts';
import type { DashboardFigures } from './dashboard';

/** A number on the dashboard and the filtered list behind it. */
export interface Figure {
  label: string;
  count: number;
  href: string;
  /** Drawn in red when above zero (work that is late). */
  warn?: boolean;
}

export type DashboardSection = 'vendors' | 'questionnaires' | 'findings' | 'coverage' | 'certifications' | 'amendments';

/** What each role looks at first; every role sees every section. */
export const SECTION_ORDER: Record<Role, DashboardSection[]> = {
  admin: ['vendors', 'questionnaires', 'findings', 'coverage', 'certifications', 'amendments'],
  viewer: ['vendors', 'coverage', 'findings', 'certifications', 'questionnaires', 'amendments'],
  procurement: ['vendors', 'questionnaires', 'findings', 'certifications', 'coverage', 'amendments'],
  legal: ['coverage', 'amendments', 'certifications', 'findings', 'vendors', 'questionnaires'],
  reviewer: ['questionnaires', 'findings', 'vendors', 'certifications', 'coverage', 'amendments'],
};

const q = (base: string, params: Record<string, string>) => `${base}?${new URLSearchParams(params).toString()}`;

/** Every dashboard section, in a fixed order (each role has its own, SECTION_ORDER). */
export const DASHBOARD_SECTIONS: readonly DashboardSection[] = SECTION_ORDER.admin;

/** The sections' view model, drawn from the figures alone: figures with their links, charts laid out. */
function figuresView(f: DashboardFigures) {
  const v = f.vendors;
  return {
    today: f.today,
    total: v.total,
    headline: { label: 'In-scope vendors not assessed within their cycle', count: v.outsideCycle, of: v.inScope, href: q('/vendors', { scope: 'in', assessment: 'outside_cycle' }) },
    vendors: {
      figures: [
        { label: 'Vendors in scope of 201 CMR 17.00', count: v.inScope, href: q('/vendors', { scope: 'in' }) },
        { label: 'In scope, assessment overdue', count: v.overdue, href: q('/vendors', { scope: 'in', assessment: 'overdue' }), warn: true },
        { label: 'In scope, never assessed', count: v.never, href: q('/vendors', { scope: 'in', assessment: 'never' }), warn: true },
        { label: 'In scope, due within 30 days', count: v.dueSoon, href: q('/vendors', { scope: 'in', assessment: 'due_soon' }) },
      ] as Figure[],
      tierChart: barChart(
        'chart-tier',
        'Vendors by inherent risk tier',
        TIERS.map((t) => ({ label: TIER_LABELS[t], value: v.byTier[t], href: q('/vendors', { tier: t }), tone: `bar-tier-${t}` })),
      ),
      statusChart: barChart(
        'chart-status',
        'Vendors by pipeline status',
        STATUSES.map((s) => ({ label: STATUS_LABELS[s], value: v.byStatus[s], href: q('/vendors', { status: s }), tone: 'bar-status' })),
      ),
      grid: {
        statuses: STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s] })),
        rows: TIERS.map((t) => ({
          tier: t,
          label: TIER_LABELS[t],
          cells: STATUSES.map((s) => ({ count: v.grid[t][s], href: q('/vendors', { tier: t, status: s }) })),
        })),
      },
    },
    questionnaires: {
      figures: [
        { label: 'Submitted, awaiting review', count: f.questionnaires.awaitingReview, href: q('/questionnaires', { status: 'submitted' }) },
        { label: `Unanswered, due within ${QUESTIONNAIRE_DUE_SOON_DAYS} days`, count: f.questionnaires.dueSoon, href: q('/questionnaires', { due: 'soon' }) },
        { label: 'Unanswered, past due', count: f.questionnaires.overdue, href: q('/questionnaires', { due: 'overdue' }), warn: true },
        { label: 'Returned for clarification', count: f.questionnaires.returned, href: q('/questionnaires', { status: 'returned' }) },
      ] as Figure[],
    },
    findings: {
      figures: [
        { label: 'Open findings', count: f.findings.open, href: q('/findings', { status: 'open' }) },
        { label: 'Open and past their due date', count: f.findings.overdue, href: q('/findings', { status: 'open', overdue: 'true' }), warn: true },
      ] as Figure[],
      chart: barChart(
        'chart-findings',
        'Open findings by severity',
        SEVERITIES.map((s) => ({ label: SEVERITY_LABELS[s], value: f.findings.bySeverity[s].total, href: q('/findings', { status: 'open', severity: s }), tone: `bar-sev-${s}` })),
      ),
      ages: FINDING_AGE_BANDS.map((a) => ({ value: a, label: AGE_BAND_LABELS[a] })),
      rows: SEVERITIES.map((s) => ({
        label: SEVERITY_LABELS[s],
        severity: s,
        total: { count: f.findings.bySeverity[s].total, href: q('/findings', { status: 'open', severity: s }) },
        cells: FINDING_AGE_BANDS.map((a) => ({ count: f.findings.bySeverity[s][a], href: q('/findings', { status: 'open', severity: s, age: a }) })),
      })),
    },
    coverage: {
      chart: barChart(
        'chart-coverage',
        'Clause coverage of in-scope active vendors, by clause',
        f.coverage.map((c) => ({ label: c.clause.id, value: c.percent ?? 0, href: q('/contracts/matrix', { scope: 'in', status: 'active', missing: c.clause.id }), tone: 'bar-coverage' })),
        '%',
      ),
      rows: f.coverage.map((c) => ({
        id: c.clause.id,
        title: c.clause.title,
        covered: c.covered,
        of: c.of,
        percent: c.percent,
        gaps: c.of - c.covered,
        gapsHref: q('/contracts/matrix', { scope: 'in', status: 'active', missing: c.clause.id }),
      })),
    },
    certifications: {
      chart: barChart('chart-certifications', 'Written certifications by state', [
        { label: 'Valid', value: f.certifications.valid, href: q('/certifications', { status: 'signed' }), tone: 'bar-ok' },
        { label: 'Expiring within 30 days', value: f.certifications.expiring, href: q('/certifications', { status: 'expiring' }), tone: 'bar-warn' },
        { label: 'Expired', value: f.certifications.expired, href: q('/certifications', { status: 'expired' }), tone: 'bar-bad' },
        { label: 'Requested, not signed', value: f.certifications.requested, href: q('/certifications', { status: 'requested' }), tone: 'bar-status' },
      ]),
    },
    amendments: {
      figures: [
        { label: 'Open amendment requests', count: f.amendments.open, href: '/contracts/amendments' },
        { label: 'Open and past their target date', count: f.amendments.overdue, href: q('/contracts/amendments', { overdue: 'true' }), warn: true },
      ] as Figure[],
    },
  };
}

/** Renders a view with these locals only (the app's own locals aside): nothing of a request or a user. */
export type RenderView = (view: string, locals: Record<string, unknown>) => Promise<string>;

/** The dashboard drawn from one set of figures: the headline's numbers and each section's markup. */
export interface DashboardMarkup {
  total: number;
  headline: ReturnType<typeof figuresView>['headline'];
  sections: Record<DashboardSection, string>;
}

const markupOf = new WeakMap<DashboardFigures, Promise<DashboardMarkup>>();

/**
 * The sections of the dashboard (views/home/sections, with their charts) rendered once per set of
 * figures and kept with them: DashboardService shares one figures object until one of its tables is
 * written, the day changes or 30 seconds pass, and then returns a new one, so the markup lives
 * exactly as long as the figures it is drawn from. It is drawn from nothing else: the sections are
 * rendered without the request's locals (no user, no CSRF token), and the role only orders them.
 */
export function dashboardMarkup(f: DashboardFigures, render: RenderView): Promise<DashboardMarkup> {
  let markup = markupOf.get(f);
  if (!markup) {
    markup = drawSections(f, render);
    markupOf.set(f, markup);
    // A failed rendering is not kept: the next request tries again.
    markup.catch(() => markupOf.delete(f));
  }
  return markup;
}

async function drawSections(f: DashboardFigures, render: RenderView): Promise<DashboardMarkup> {
  const d = figuresView(f);
  const sections = {} as Record<DashboardSection, string>;
  for (const section of DASHBOARD_SECTIONS) sections[section] = await render(`home/sections/${section}`, { d });
  return { total: d.total, headline: d.headline, sections };
}
