import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { Context } from '../context';
import { latestVendorReminders } from '../reminders/log';
import { RULE_LABELS } from '../reminders/routes';
import { NotFoundError, ValidationError } from '../errors';
import { requireRole, requireUser } from '../http/auth';
import { handleForm, handleSectionForm, pageNumber, parseInput } from '../http/forms';
import { actorOf, flash } from '../http/request';
import { singleFileUpload } from '../http/upload';
import { auditExport } from '../reports/exports';
import { exportCsv, IMPORT_COLUMNS } from './csv';
import { vendorDetail, vendorRow } from './present';
import {
  ACCESS_MODE_LABELS,
  ACCESS_MODES,
  ASSESSMENT_STATE_LABELS,
  MA_RESIDENTS,
  PI_ELEMENT_LABELS,
  PI_ELEMENTS,
  STATUS_LABELS,
  STATUSES,
  TIER_LABELS,
  TIERS,
  VOLUME_BANDS,
  VOLUME_LABELS,
  type VendorStatus,
} from './risk';
import { clearOverrideSchema, contactSchema, createVendorSchema, subprocessorSchema, tierOverrideSchema, transitionSchema, vendorSchema } from './schema';
import type { VendorFilter } from './service';
import { STATUS_LABELS as QUESTIONNAIRE_STATUS_LABELS } from '../questionnaires/service';
import { vendorCertificationPanel } from '../certifications/vendor-panel';

const PAGE_SIZE = 50;
const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

const editors = requireRole('admin', 'procurement');
const tierSetters = requireRole('admin', 'reviewer');

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);

/** The list's query string: filters, sort and page. Shared by the page, the CSV export and the API. */
export const listQuerySchema = z.object({
  q: z.preprocess(blankToUndefined, z.string().trim().max(200, 'Search must be at most 200 characters.').optional()),
  status: z.preprocess(blankToUndefined, z.enum(STATUSES, { error: `status must be one of: ${STATUSES.join(', ')}.` }).optional()),
  tier: z.preprocess(blankToUndefined, z.enum(TIERS, { error: `tier must be one of: ${TIERS.join(', ')}.` }).optional()),
  owner: z.preprocess(
    blankToUndefined,
    z.union([z.literal('none'), z.coerce.number().int().positive()], { error: 'owner must be a user id or "none".' }).optional(),
  ),
  scope: z.preprocess(blankToUndefined, z.enum(['in', 'out'], { error: 'scope must be "in" or "out".' }).optional()),
  assessment: z.preprocess(
    blankToUndefined,
    z
      .enum(['overdue', 'due_soon', 'never', 'current', 'not_required', 'outside_cycle'], { error: 'assessment must be overdue, due_soon, never, current, not_required or outside_cycle.' })
      .optional(),
  ),
  sort: z.preprocess(blankToUndefined, z.enum(['name', 'tier', 'status', 'next', 'updated'], { error: 'sort must be name, tier, status, next or updated.' }).optional()),
  dir: z.preprocess(blankToUndefined, z.enum(['asc', 'desc'], { error: 'dir must be asc or desc.' }).optional()),
});

export type ListQuery = z.infer<typeof listQuerySchema>;

export function toFilter(q: ListQuery): VendorFilter {
  return { q: q.q, status: q.status, tier: q.tier, ownerId: q.owner, scope: q.scope, assessment: q.assessment, sort: q.sort, dir: q.dir };
}

/** The filters as a query string, for links that keep the list's state. */
function queryString(q: ListQuery, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

function idParam(raw: string | string[] | undefined, what = 'vendor'): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError(`No such ${what}.`);
  return Number(s);
}

/** The choices the forms offer, with labels. */
const formOptions = {
  piOptions: PI_ELEMENTS.map((value) => ({ value, label: PI_ELEMENT_LABELS[value] })),
  accessOptions: ACCESS_MODES.map((value) => ({ value, label: ACCESS_MODE_LABELS[value] })),
  volumeOptions: VOLUME_BANDS.map((value) => ({ value, label: VOLUME_LABELS[value] })),
  maOptions: MA_RESIDENTS.map((value) => ({ value, label: { yes: 'Yes', no: 'No', unknown: 'Not known yet' }[value] })),
  statusOptions: STATUSES.map((value) => ({ value, label: STATUS_LABELS[value] })),
  tierOptions: TIERS.map((value) => ({ value, label: TIER_LABELS[value] })),
};

/** Vendor pages: the list, create and edit, the vendor page with its forms, CSV import and export. */
export function vendorRoutes(ctx: Context): Router {
  const r = Router();
  const { vendors, vendorImports } = ctx;
  r.use(requireUser());

  r.get('/', async (req, res) => {
    const query = parseInput(listQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const [{ vendors: rows, total }, users] = await Promise.all([vendors.listRows(toFilter(query), page, PAGE_SIZE), vendors.userDirectory()]);
    const owners = new Map(users.map((u) => [u.id, u]));
    const certifications = await ctx.certifications.summaries(rows.map((v) => v.id));
    const today = vendors.today();
    const filtered = Object.entries(query).some(([k, v]) => v !== undefined && k !== 'sort' && k !== 'dir');
    res.render('vendors/list', {
      title: 'Vendors',
      rows: rows.map((v) => vendorRow(v, owners, today)),
      certifications,
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      query,
      filtered,
      ownerOptions: users.filter((u) => u.active).map((u) => ({ id: u.id, name: u.name })),
      assessmentOptions: [...Object.entries(ASSESSMENT_STATE_LABELS).map(([value, label]) => ({ value, label })), { value: 'outside_cycle', label: 'Not assessed within its cycle (never or overdue)' }],
      ...formOptions,
      href: (extra: Record<string, string>) => `/vendors?${queryString(query, extra)}`,
      sortHref: (sort: string) => `/vendors?${queryString({ ...query, sort: sort as ListQuery['sort'], dir: query.sort === sort && query.dir !== 'desc' ? 'desc' : 'asc' })}`,
      exportHref: `/vendors/export.csv?${queryString(query)}`,
      canEdit: ['admin', 'procurement'].includes(req.user!.role),
    });
  });

  r.get('/export.csv', async (req, res) => {
    const query = parseInput(listQuerySchema, req.query);
    const filter = toFilter(query);
    await auditExport(ctx, req, 'vendors', query);
    const stamp = vendors.today();
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="vendors-${stamp}.csv"`);
    // Excel reads UTF-8 only with a byte-order mark.
    res.write('\uFEFF');
    res.write(exportCsv([], new Map(), new Map(), true));
    const batch = 1000;
    for (let page = 1; ; page++) {
      const { vendors: rows } = await vendors.list(filter, page, batch);
      if (rows.length === 0) break;
      const [owners, contacts] = await Promise.all([vendors.usersById(rows.map((v) => v.businessOwnerId)), vendors.securityContacts(rows.map((v) => v.id))]);
      if (!res.write(exportCsv(rows, owners, contacts, false))) await new Promise((resolve) => res.once('drain', resolve));
      if (rows.length < batch) break;
    }
    res.end();
  });

  const formLocals = async (title: string) => ({ title, ownerOptions: await vendors.ownerOptions(), ...formOptions });

  r.get('/new', editors, async (_req, res) => {
    res.render('vendors/form', { ...(await formLocals('New vendor')), mode: 'new', values: { status: 'prospect', maResidents: 'unknown', recordVolume: 'none', reassessmentStart: 'send', piElements: [], accessModes: [] }, errors: {} });
  });

  r.post('/new', editors, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    await handleForm(res, 'vendors/form', { ...(await formLocals('New vendor')), mode: 'new' }, asFormValues(body), async () => {
      const input = parseInput(createVendorSchema, body);
      const v = await vendors.create(actorOf(req), input);
      flash(req, 'success', `${v.legalName} was added.`);
      res.redirect(303, `/vendors/${v.id}`);
    });
  });

  r.get('/import', editors, (_req, res) => {
    res.render('vendors/import', { title: 'Import vendors from CSV', columns: IMPORT_COLUMNS, errors: {} });
  });

  r.post('/import', editors, singleFileUpload('file', MAX_IMPORT_BYTES), async (req, res) => {
    if (!req.file) throw new ValidationError({ file: 'Choose a CSV file to upload.' });
    const result = await vendorImports.preview(actorOf(req), req.file.originalname, req.file.buffer);
    res.status(result.problems.length ? 400 : 200).render('vendors/import-preview', {
      title: result.problems.length ? 'The file needs corrections' : 'Check the import',
      fileName: req.file.originalname,
      problems: result.problems.slice(0, 500),
      problemCount: result.problems.length,
      sample: result.rows.slice(0, 20).map((r) => ({ line: r.line, ...r.vendor, contact: r.contact })),
      rowCount: result.rows.length,
      importId: result.importId,
      statusLabels: STATUS_LABELS,
    });
  });

  r.post('/import/:importId/commit', editors, async (req, res) => {
    const count = await vendorImports.commit(actorOf(req), idParam(req.params.importId, 'import'));
    flash(req, 'success', `${count} vendor${count === 1 ? '' : 's'} imported.`);
    res.redirect(303, '/vendors?sort=updated&dir=desc');
  });

  r.post('/import/:importId/discard', editors, async (req, res) => {
    await vendorImports.discard(actorOf(req), idParam(req.params.importId, 'import'));
    flash(req, 'info', 'The import was discarded; nothing was added.');
    res.redirect(303, '/vendors/import');
  });

  /** Renders the vendor page; forms on it that fail come back here with their section's errors. */
  const renderDetail = async (req: Request, res: Response, id: number, form?: { section: string; errors: Record<string, string>; values: Record<string, unknown> }) => {
    const role = req.user!.role;
    // Everything is read at once: what needs the vendor waits for it, the rest only needs its id.
    const vendorRead = vendors.withNames(id);
    const contactsRead = vendors.contacts(id);
    const subprocessorsRead = vendors.subprocessors(id);
    const [{ vendor: v, ownerName, tierOverrideByName }, contacts, subprocessors, timeline, { questionnaires, riskHistory }, reminders, certificationPanel, contractSummary] = await Promise.all([
      vendorRead,
      contactsRead,
      subprocessorsRead,
      vendors.timeline(id),
      ctx.reviews.vendorQuestionnaires(id),
      latestVendorReminders(ctx.ds, id, 6),
      Promise.all([vendorRead, contactsRead]).then(([{ vendor }, c]) => vendorCertificationPanel(ctx, vendor, role, c)),
      Promise.all([vendorRead, subprocessorsRead]).then(([{ vendor }, s]) => ctx.contracts.vendorSummary(id, { vendor, subprocessorCount: s.length })),
    ]);
    res.render('vendors/show', {
      reminders: reminders.slice(0, 5),
      moreReminders: reminders.length > 5,
      ruleLabels: RULE_LABELS,
      title: v.legalName,
      certificationPanel,
      contractSummary,
      v: vendorDetail(v, { owner: ownerName, tierOverrideBy: tierOverrideByName }, ctx.config.reassessmentIntervals, vendors.today()),
      contacts,
      subprocessors,
      timeline,
      riskHistory,
      questionnaires: questionnaires.map((q) => {
        const status = ctx.questionnaires.displayStatus(q);
        return { id: q.id, title: q.title, dueDate: q.dueDate, sentAt: q.sentAt, recipientEmail: q.recipientEmail, status, statusLabel: QUESTIONNAIRE_STATUS_LABELS[status] };
      }),
      nextStatuses: vendors.nextStatuses(v).map((value) => ({ value, label: STATUS_LABELS[value as VendorStatus] })),
      tierOptions: formOptions.tierOptions,
      canEdit: role === 'admin' || role === 'procurement',
      canSetTier: role === 'admin' || role === 'reviewer',
      section: form?.section ?? null,
      errors: form?.errors ?? {},
      values: form?.values ?? {},
    });
  };

  const detailForm = async (req: Request, res: Response, section: string, action: () => Promise<void>) => {
    const id = idParam(req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    await handleSectionForm(res, section, asFormValues(body), (form) => renderDetail(req, res, id, form), action);
  };

  r.get('/:id', async (req, res) => {
    await renderDetail(req, res, idParam(req.params.id));
  });

  r.get('/:id/edit', editors, async (req, res) => {
    const v = await vendors.get(idParam(req.params.id));
    res.render('vendors/form', { ...(await formLocals(`Edit ${v.legalName}`)), mode: 'edit', vendorId: v.id, values: { ...v }, errors: {} });
  });

  r.post('/:id/edit', editors, async (req, res) => {
    const v = await vendors.get(idParam(req.params.id));
    const body = req.body as Record<string, unknown>;
    await handleForm(res, 'vendors/form', { ...(await formLocals(`Edit ${v.legalName}`)), mode: 'edit', vendorId: v.id }, asFormValues(body), async () => {
      const input = parseInput(vendorSchema, body);
      await vendors.update(actorOf(req), v.id, input);
      flash(req, 'success', 'Saved.');
      res.redirect(303, `/vendors/${v.id}`);
    });
  });

  r.post('/:id/status', editors, async (req, res) => {
    await detailForm(req, res, 'status', async () => {
      const input = parseInput(transitionSchema, req.body);
      const adminOverride = req.user!.role === 'admin' && (req.body as Record<string, unknown>).override === 'on';
      const v = await vendors.transition(actorOf(req), idParam(req.params.id), input.to, input.reason, { adminOverride });
      flash(req, 'success', `Status is now ${STATUS_LABELS[v.status]}.`);
      res.redirect(303, `/vendors/${v.id}`);
    });
  });

  r.post('/:id/tier', tierSetters, async (req, res) => {
    await detailForm(req, res, 'tier', async () => {
      const input = parseInput(tierOverrideSchema, req.body);
      const v = await vendors.overrideTier(actorOf(req), idParam(req.params.id), input.tier, input.reason);
      flash(req, 'success', `Tier set to ${TIER_LABELS[v.tier]}; the computed tier stays visible beside it.`);
      res.redirect(303, `/vendors/${v.id}`);
    });
  });

  r.post('/:id/tier/clear', tierSetters, async (req, res) => {
    await detailForm(req, res, 'tierClear', async () => {
      const input = parseInput(clearOverrideSchema, req.body);
      const v = await vendors.overrideTier(actorOf(req), idParam(req.params.id), null, input.reason);
      flash(req, 'success', `Override removed; the tier is the computed ${TIER_LABELS[v.tier]}.`);
      res.redirect(303, `/vendors/${v.id}`);
    });
  });

  r.post('/:id/contacts', editors, async (req, res) => {
    await detailForm(req, res, 'contact', async () => {
      const input = parseInput(contactSchema, req.body);
      const id = idParam(req.params.id);
      const c = await vendors.addContact(actorOf(req), id, input);
      flash(req, 'success', `${c.name} was added as a contact.`);
      res.redirect(303, `/vendors/${id}#contacts`);
    });
  });

  r.post('/:id/contacts/:contactId/security', editors, async (req, res) => {
    const id = idParam(req.params.id);
    const c = await vendors.updateContact(actorOf(req), id, idParam(req.params.contactId, 'contact'), { isSecurityContact: true });
    flash(req, 'success', `${c.name} is now the security contact.`);
    res.redirect(303, `/vendors/${id}#contacts`);
  });

  r.post('/:id/contacts/:contactId/delete', editors, async (req, res) => {
    const id = idParam(req.params.id);
    await vendors.removeContact(actorOf(req), id, idParam(req.params.contactId, 'contact'));
    flash(req, 'success', 'The contact was removed.');
    res.redirect(303, `/vendors/${id}#contacts`);
  });

  r.post('/:id/subprocessors', editors, async (req, res) => {
    await detailForm(req, res, 'subprocessor', async () => {
      const input = parseInput(subprocessorSchema, req.body);
      const id = idParam(req.params.id);
      const sp = await vendors.addSubprocessor(actorOf(req), id, input);
      flash(req, 'success', `${sp.name} was added as a subprocessor.`);
      res.redirect(303, `/vendors/${id}#subprocessors`);
    });
  });

  r.post('/:id/subprocessors/:subId/delete', editors, async (req, res) => {
    const id = idParam(req.params.id);
    await vendors.removeSubprocessor(actorOf(req), id, idParam(req.params.subId, 'subprocessor'));
    flash(req, 'success', 'The subprocessor was removed.');
    res.redirect(303, `/vendors/${id}#subprocessors`);
  });

  return r;
}

/** A submitted form as the view expects it back: checkbox groups always as arrays. */
function asFormValues(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body };
  for (const k of ['piElements', 'accessModes']) {
    const v = body[k];
    out[k] = v === undefined ? [] : Array.isArray(v) ? v : [v];
  }
  return out;
}
