import { type Request, type Response, Router } from 'express';
import type { Context } from '../context';
import { NotFoundError } from '../errors';
import { requireRole, requireUser } from '../http/auth';
import { handleForm, handleSectionForm, pageNumber, parseInput } from '../http/forms';
import { actorOf, flash } from '../http/request';
import { SEVERITIES } from '../questionnaires/template';
import { FINDING_STATUSES, REMEDIATORS } from './entities';
import { findingDetail, findingRow } from './present';
import { acceptRiskSchema, type FindingListQuery, findingListQuerySchema, findingSchema, findingStatusSchema, toFindingFilter } from './schema';
import { sendCsv } from '../csv';
import { auditExport, hrefWith } from '../reports/exports';
import { FINDING_COLUMNS, findingCsvRow } from './csv';
import { addDays, addYears, AGE_BAND_LABELS, FINDING_AGE_BANDS, MAX_ACCEPTANCE_YEARS, REMEDIATOR_LABELS, RISK_ACCEPTABLE_FROM, SEVERITY_LABELS, STATUS_LABELS } from './service';

const PAGE_SIZE = 50;

/** Reviewers and admins decide on findings; everyone signed in reads them. */
const deciders = requireRole('admin', 'reviewer');

function id(raw: unknown, what: string): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError(`No such ${what}.`);
  return Number(s);
}

/** The list's address with these filters, for links that keep the list's state. */
function listHref(q: FindingListQuery, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const qs = params.toString();
  return qs ? `/findings?${qs}` : '/findings';
}

const formOptions = {
  severityOptions: SEVERITIES.map((value) => ({ value, label: SEVERITY_LABELS[value] })),
  remediatorOptions: REMEDIATORS.map((value) => ({ value, label: REMEDIATOR_LABELS[value] })),
  statusOptions: FINDING_STATUSES.map((value) => ({ value, label: value === 'open' ? 'Open or remediation planned' : STATUS_LABELS[value] })),
};

/** Finding pages: the list across vendors, a manual finding for a vendor, the finding page with its forms. */
export function findingRoutes(ctx: Context): Router {
  const r = Router();
  const { findings, vendors } = ctx;
  // Mounted at the root, so each route names its guard (a router-wide guard would catch every URL).
  const staff = requireUser();

  const ownerMenu = async (current?: { id: number | null; name: string }) => {
    const options = (await findings.ownerOptions()).map((o) => ({ value: o.id, label: o.name }));
    // An owner deactivated since stays selectable, so saving the form does not drop them silently.
    if (current?.id && !options.some((o) => o.value === current.id)) options.push({ value: current.id, label: `${current.name} (inactive)` });
    return [{ value: '', label: '— nobody yet —' }, ...options];
  };

  r.get('/findings', staff, async (req, res) => {
    const query = parseInput(findingListQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const { findings: rows, total, vendorNames, userNames } = await findings.listWithNames(toFindingFilter(query), page, PAGE_SIZE);
    // A vendor filter names its vendor even when the page holds none of its findings.
    if (query.vendor && !vendorNames.has(query.vendor)) for (const [id, n] of await findings.vendorNames([{ vendorId: query.vendor }])) vendorNames.set(id, n);
    const now = ctx.clock.now();
    res.render('findings/list', {
      title: 'Findings',
      rows: rows.map((f) => findingRow(f, vendorNames, userNames, now)),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      query,
      filtered: Object.values(query).some((v) => v !== undefined),
      vendorName: query.vendor ? (vendorNames.get(query.vendor) ?? null) : null,
      withoutVendorHref: listHref({ ...query, vendor: undefined }),
      href: (extra: Record<string, string>) => listHref(query, extra),
      exportHref: hrefWith('/findings.csv', query),
      ageOptions: FINDING_AGE_BANDS.map((value) => ({ value, label: AGE_BAND_LABELS[value] })),
      canDecide: ['admin', 'reviewer'].includes(req.user!.role),
      ...formOptions,
    });
  });

  r.get('/findings.csv', staff, async (req, res) => {
    const query = parseInput(findingListQuerySchema, req.query);
    const filter = toFindingFilter(query);
    await auditExport(ctx, req, 'findings', query);
    const now = ctx.clock.now();
    await sendCsv(res, `findings-${findings.today()}.csv`, FINDING_COLUMNS, async (n, batch) => {
      const { findings: rows } = await findings.list(filter, n, batch);
      const [vendorNames, userNames] = await Promise.all([findings.vendorNames(rows), findings.userNames(rows)]);
      return rows.map((f) => findingCsvRow(findingRow(f, vendorNames, userNames, now)));
    });
  });

  const newLocals = async (vendorId: number) => {
    const vendor = await vendors.get(vendorId);
    return { title: `Record a finding for ${vendor.legalName}`, vendor, ownerOptions: await ownerMenu(), ...formOptions };
  };

  r.get('/vendors/:id/findings/new', deciders, async (req, res) => {
    const locals = await newLocals(id(req.params.id, 'vendor'));
    res.render('findings/new', { ...locals, values: { severity: 'medium', remediatedBy: 'vendor' }, errors: {} });
  });

  r.post('/vendors/:id/findings/new', deciders, async (req, res) => {
    const vendorId = id(req.params.id, 'vendor');
    const body = req.body as Record<string, unknown>;
    await handleForm(res, 'findings/new', await newLocals(vendorId), body, async () => {
      const input = parseInput(findingSchema, body);
      const f = await findings.create(actorOf(req), vendorId, input);
      flash(req, 'success', 'The finding was recorded.');
      res.redirect(303, `/findings/${f.id}`);
    });
  });

  /** Renders the finding page; forms on it that fail come back here with their section's errors. */
  const renderDetail = async (req: Request, res: Response, findingId: number, form?: { section: string; errors: Record<string, string>; values: Record<string, unknown> }) => {
    const f = await findings.get(findingId);
    const [vendorNames, userNames, history] = await Promise.all([findings.vendorNames([f]), findings.userNames([f]), vendors.timelineOf('finding', f.id)]);
    const user = req.user!;
    const today = findings.today();
    const detail = findingDetail(f, vendorNames, userNames, ctx.clock.now());
    res.render('findings/show', {
      title: f.title,
      f: detail,
      history,
      ownerOptions: await ownerMenu({ id: f.ownerId, name: detail.ownerName }),
      ...formOptions,
      nextStatuses: findings.nextStatuses(f).map((value) => ({ value, label: STATUS_LABELS[value] })),
      canDecide: user.role === 'admin' || user.role === 'reviewer',
      riskAcceptable: RISK_ACCEPTABLE_FROM.includes(f.status),
      isCreator: findings.isCreator(f, user.id),
      earliestExpiry: addDays(today, 1),
      latestExpiry: addYears(today, MAX_ACCEPTANCE_YEARS),
      section: form?.section ?? null,
      errors: form?.errors ?? {},
      values: form?.values ?? {},
      editValues:
        form?.section === 'edit'
          ? form.values
          : { title: f.title, severity: f.severity, citation: f.citation, description: f.description, ownerId: f.ownerId ?? '', remediatedBy: f.remediatedBy, remediationPlan: f.remediationPlan, dueDate: f.dueDate },
    });
  };

  const detailForm = async (req: Request, res: Response, section: string, action: () => Promise<void>) => {
    const findingId = id(req.params.id, 'finding');
    await handleSectionForm(res, section, (req.body ?? {}) as Record<string, unknown>, (form) => renderDetail(req, res, findingId, form), action);
  };

  r.get('/findings/:id', staff, async (req, res) => {
    await renderDetail(req, res, id(req.params.id, 'finding'));
  });

  r.post('/findings/:id', deciders, async (req, res) => {
    await detailForm(req, res, 'edit', async () => {
      const input = parseInput(findingSchema, req.body);
      const f = await findings.update(actorOf(req), id(req.params.id, 'finding'), input);
      flash(req, 'success', 'Saved.');
      res.redirect(303, `/findings/${f.id}`);
    });
  });

  r.post('/findings/:id/status', deciders, async (req, res) => {
    await detailForm(req, res, 'status', async () => {
      const input = parseInput(findingStatusSchema, req.body);
      const f = await findings.transition(actorOf(req), id(req.params.id, 'finding'), input.to, input);
      flash(req, 'success', `Status is now ${STATUS_LABELS[f.status]}.`);
      res.redirect(303, `/findings/${f.id}`);
    });
  });

  r.post('/findings/:id/accept-risk', deciders, async (req, res) => {
    await detailForm(req, res, 'acceptRisk', async () => {
      const input = parseInput(acceptRiskSchema, req.body);
      const f = await findings.acceptRisk(actorOf(req), id(req.params.id, 'finding'), input.reason, input.expiresOn);
      flash(req, 'success', `Risk accepted until ${f.riskAcceptanceExpiresOn}.`);
      res.redirect(303, `/findings/${f.id}`);
    });
  });

  return r;
}
