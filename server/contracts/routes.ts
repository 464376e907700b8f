import { type Request, type RequestHandler, type Response, Router } from 'express';
import multer from 'multer';
import { recordAudit } from '../audit/service';
import type { Context } from '../context';
import { NotFoundError, ValidationError } from '../errors';
import { requireRole, requireUser } from '../http/auth';
import { fieldErrors, type FormSection, handleForm, handleSectionForm, pageNumber, parseInput } from '../http/forms';
import { actorOf, flash } from '../http/request';
import { parsedWithoutNul } from '../http/text';
import { STATUS_LABELS as VENDOR_STATUS_LABELS, STATUSES as VENDOR_STATUSES, TIER_LABELS, TIERS } from '../vendors/risk';
import { type AmendmentFilter, DEFAULT_TARGET_DAYS } from './amendments';
import { CLAUSE_STATE_LABELS } from './coverage';
import { sendCsv } from '../csv';
import { auditExport } from '../reports/exports';
import { amendmentsCsv, CONTRACT_COLUMNS, contractCsvRow, matrixCsv } from './csv';
import { AMENDMENT_STATUSES, type ContractFile, CONTRACT_STATUSES, CONTRACT_TYPES } from './entities';
import { AMENDMENT_STATUS_LABELS, CONTRACT_STATUS_LABELS, TYPE_LABELS } from './labels';
import { amendmentRow, clauseView, contractRow, matrixRows } from './present';
import {
  type AmendmentListQuery,
  amendmentListQuerySchema,
  amendmentStatusSchema,
  type ClauseReviewInput,
  clauseReviewSchema,
  commentSchema,
  type ContractListQuery,
  contractListQuerySchema,
  contractSchema,
  editAmendmentSchema,
  type MatrixQuery,
  matrixQuerySchema,
  openAmendmentSchema,
} from './schema';
import { checkReview, DOCUMENT_DESCRIPTION, type Upload } from './service';

const PAGE_SIZE = 50;

/** Legal and admins keep contracts, clause coverage and amendments; everyone signed in reads them. */
const editors = requireRole('admin', 'legal');

function id(raw: unknown, what: string): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError(`No such ${what}.`);
  return Number(s);
}

/** A list's address with its filters, for links that keep the list's state. */
function hrefWith(base: string, q: Record<string, unknown>, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const qs = params.toString();
  return qs ? `${base}?${qs}` : base;
}

const formOptions = {
  typeOptions: CONTRACT_TYPES.map((value) => ({ value, label: TYPE_LABELS[value] })),
  contractStatusOptions: CONTRACT_STATUSES.map((value) => ({ value, label: CONTRACT_STATUS_LABELS[value] })),
  clauseStatusOptions: (['not_reviewed', 'present', 'partial', 'missing', 'not_applicable'] as const).map((value) => ({ value, label: CLAUSE_STATE_LABELS[value] })),
  amendmentStatusOptions: [{ value: 'open', label: 'Open (drafted, sent, in negotiation)' }, { value: 'all', label: 'Any status' }, ...AMENDMENT_STATUSES.map((value) => ({ value, label: AMENDMENT_STATUS_LABELS[value] }))],
  tierOptions: TIERS.map((value) => ({ value, label: TIER_LABELS[value] })),
  vendorStatusOptions: VENDOR_STATUSES.map((value) => ({ value, label: VENDOR_STATUS_LABELS[value] })),
};

/** A submitted form as the views expect it back: checkbox groups always as arrays. */
function asFormValues(body: Record<string, unknown>): Record<string, unknown> {
  return { ...body, items: body.items === undefined ? [] : Array.isArray(body.items) ? body.items : [body.items] };
}

/**
 * Contract pages: the list, a vendor's contracts and coverage, the contract with its clause
 * checklist and document, the portfolio matrix, amendment requests, and the clause catalogue.
 */
export function contractRoutes(ctx: Context): Router {
  const r = Router();
  const { contracts, amendments, vendors } = ctx;
  const catalogue = contracts.catalogue;
  // Mounted at the root, so each route names its guard (a router-wide guard would catch every URL).
  const staff = requireUser();

  /** One document from a multipart form, kept in memory, within the evidence size limit. */
  const upload = (field: string, fields = 30): RequestHandler =>
    parsedWithoutNul(
      multer({ storage: multer.memoryStorage(), limits: { fileSize: ctx.config.evidence.maxFileBytes, files: 1, fields, parts: fields + 2, fieldSize: 10_000, headerPairs: 100 } }).single(field),
    );
  const fileOf = (req: Request): Upload | null => (req.file && (req.file.size > 0 || req.file.originalname) ? { originalName: req.file.originalname, buffer: req.file.buffer } : null);

  const ownerMenu = async (current?: number | null) => {
    const options = (await ctx.findings.ownerOptions()).map((o) => ({ value: o.id, label: o.name }));
    if (current && !options.some((o) => o.value === current)) {
      const names = await contracts.userNames([current]);
      options.push({ value: current, label: `${names.get(current) ?? 'A former user'} (inactive)` });
    }
    return [{ value: '', label: '— nobody yet —' }, ...options];
  };

  const download = async (req: Request, res: Response, f: ContractFile) => {
    await contracts.recordDownload(actorOf(req), f);
    res.set('Content-Type', f.mediaType);
    res.set('Content-Disposition', `attachment; filename="${f.fileName.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(f.fileName)}`);
    res.set('Content-Length', String(f.size));
    res.set('X-Content-Type-Options', 'nosniff');
    try {
      await contracts.pipeFile(f, res);
    } catch (err) {
      // The client went away mid-download: nothing left to answer.
      if ((err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
    }
  };

  // ---- The contracts list ------------------------------------------------------------------

  r.get('/contracts', staff, async (req, res) => {
    const query = parseInput(contractListQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const filter = { vendorId: query.vendor, type: query.type, status: query.status, noticeDue: query.notice === 'due' };
    const { contracts: rows, total } = await contracts.list(filter, page, PAGE_SIZE);
    const [names, documents, counts] = await Promise.all([vendors.namesById([...rows.map((c) => c.vendorId), ...(query.vendor ? [query.vendor] : [])]), contracts.documents(rows.map((c) => c.id)), contracts.contractCounts(rows)]);
    const today = contracts.today();
    res.render('contracts/list', {
      title: 'Contracts',
      rows: rows.map((c) => ({ ...contractRow(c, names, documents, today), counts: counts.get(c.id)! })),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      query,
      filtered: Object.values(query).some((v) => v !== undefined),
      vendorName: query.vendor ? (names.get(query.vendor) ?? null) : null,
      href: (extra: Record<string, string>) => hrefWith('/contracts', query as ContractListQuery, extra),
      exportHref: hrefWith('/contracts.csv', query as ContractListQuery),
      withoutVendorHref: hrefWith('/contracts', { ...query, vendor: undefined }),
      canEdit: ['admin', 'legal'].includes(req.user!.role),
      catalogueInvalid: !catalogue.status.valid,
      ...formOptions,
    });
  });

  r.get('/contracts.csv', staff, async (req, res) => {
    const query = parseInput(contractListQuerySchema, req.query);
    const filter = { vendorId: query.vendor, type: query.type, status: query.status, noticeDue: query.notice === 'due' };
    await auditExport(ctx, req, 'contracts', query);
    const today = contracts.today();
    await sendCsv(res, `contracts-${today}.csv`, CONTRACT_COLUMNS, async (n, batch) => {
      const { contracts: rows } = await contracts.list(filter, n, batch);
      const [names, documents, counts] = await Promise.all([vendors.namesById(rows.map((c) => c.vendorId)), contracts.documents(rows.map((c) => c.id)), contracts.contractCounts(rows)]);
      return rows.map((c) => contractCsvRow(contractRow(c, names, documents, today), counts.get(c.id), documents.get(c.id)));
    });
  });

  // ---- Portfolio matrix and its export -----------------------------------------------------

  r.get('/contracts/matrix', staff, async (req, res) => {
    const query = parseInput(matrixQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const [{ vendors: rows, total, facts }, shares] = await Promise.all([contracts.matrix(query, page, PAGE_SIZE), contracts.shares()]);
    const states = await contracts.vendorStates(rows.map((v) => v.id), facts);
    const clauses = catalogue.list();
    res.render('contracts/matrix', {
      title: 'Clause coverage across vendors',
      clauses: clauses.map(clauseView),
      shares,
      rows: matrixRows(rows, states, clauses),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      query,
      filtered: Object.values(query).some((v) => v !== undefined),
      href: (extra: Record<string, string>) => hrefWith('/contracts/matrix', query as MatrixQuery, extra),
      exportHref: hrefWith('/contracts/matrix.csv', query as MatrixQuery),
      catalogueErrors: catalogue.status.valid ? [] : catalogue.status.errors,
      ...formOptions,
    });
  });

  r.get('/contracts/matrix.csv', staff, async (req, res) => {
    const query = parseInput(matrixQuerySchema, req.query);
    const clauses = catalogue.list();
    // Checked before the first byte, so a bad filter is still a 400.
    await contracts.matrix(query, 1, 1);
    await auditExport(ctx, req, 'coverage_matrix', query);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="clause-coverage-${contracts.today()}.csv"`);
    res.write('\uFEFF');
    res.write(matrixCsv(clauses, [], new Map(), true));
    const batch = 500;
    for (let page = 1; ; page++) {
      const { vendors: rows, facts } = await contracts.matrix(query, page, batch);
      if (rows.length === 0) break;
      const states = await contracts.vendorStates(rows.map((v) => v.id), facts);
      if (!res.write(matrixCsv(clauses, rows, states, false))) await new Promise((resolve) => res.once('drain', resolve));
      if (rows.length < batch) break;
    }
    res.end();
  });

  // ---- Amendment requests: list, export ------------------------------------------------------

  const amendmentFilter = (q: AmendmentListQuery): AmendmentFilter => ({ status: q.status, ownerId: q.owner, overdue: q.overdue === undefined ? undefined : q.overdue === 'true', vendorId: q.vendor });

  r.get('/contracts/amendments', staff, async (req, res) => {
    const query = parseInput(amendmentListQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const { amendments: rows, total } = await amendments.list(amendmentFilter(query), page, PAGE_SIZE);
    const [items, names, users] = await Promise.all([amendments.items(rows.map((a) => a.id)), amendments.vendorNames([...rows.map((a) => a.vendorId), ...(query.vendor ? [query.vendor] : [])]), contracts.userNames(rows.map((a) => a.ownerId))]);
    const now = ctx.clock.now();
    res.render('contracts/amendments', {
      title: 'Amendment requests',
      rows: rows.map((a) => amendmentRow(a, items.get(a.id) ?? [], names, users, now)),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      query,
      filtered: Object.values(query).some((v) => v !== undefined),
      vendorName: query.vendor ? (names.get(query.vendor) ?? null) : null,
      ownerOptions: [{ value: 'none', label: 'Nobody' }, ...(await ctx.findings.ownerOptions()).map((o) => ({ value: String(o.id), label: o.name }))],
      href: (extra: Record<string, string>) => hrefWith('/contracts/amendments', query, extra),
      withoutVendorHref: hrefWith('/contracts/amendments', { ...query, vendor: undefined }),
      exportHref: hrefWith('/contracts/amendments.csv', query),
      ...formOptions,
    });
  });

  r.get('/contracts/amendments.csv', staff, async (req, res) => {
    const query = parseInput(amendmentListQuerySchema, req.query);
    const filter = amendmentFilter(query);
    await auditExport(ctx, req, 'amendments', query);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="amendment-requests-${contracts.today()}.csv"`);
    res.write('\uFEFF');
    res.write(amendmentsCsv([], true));
    const batch = 500;
    const now = ctx.clock.now();
    for (let page = 1; ; page++) {
      const { amendments: rows } = await amendments.list(filter, page, batch);
      if (rows.length === 0) break;
      const [items, names, users] = await Promise.all([amendments.items(rows.map((a) => a.id)), amendments.vendorNames(rows.map((a) => a.vendorId)), contracts.userNames(rows.map((a) => a.ownerId))]);
      if (!res.write(amendmentsCsv(rows.map((a) => amendmentRow(a, items.get(a.id) ?? [], names, users, now)), false))) await new Promise((resolve) => res.once('drain', resolve));
      if (rows.length < batch) break;
    }
    res.end();
  });

  // ---- Opening an amendment request ----------------------------------------------------------

  const newAmendmentLocals = async (vendorId: number) => {
    const vendor = await vendors.get(vendorId);
    const eligible = await amendments.eligibleItems(vendorId);
    return {
      title: `Open an amendment request for ${vendor.legalName}`,
      vendor,
      eligible: eligible.map((e) => ({
        value: `${e.contract.id}:${e.clause.id}`,
        contractId: e.contract.id,
        contractTitle: e.contract.title,
        clause: clauseView(e.clause),
        state: e.row.status,
        stateLabel: CLAUSE_STATE_LABELS[e.row.status],
        note: e.row.note,
        openAmendmentId: e.openAmendmentId,
      })),
      ownerOptions: await ownerMenu(),
      targetDays: DEFAULT_TARGET_DAYS,
    };
  };

  r.get('/vendors/:id/amendments/new', editors, async (req, res) => {
    const locals = await newAmendmentLocals(id(req.params.id, 'vendor'));
    const wanted = req.query.items === undefined ? [] : ([] as unknown[]).concat(req.query.items).map(String);
    const items = wanted.length ? wanted : locals.eligible.filter((e) => e.openAmendmentId === null).map((e) => e.value);
    res.render('contracts/amendment-new', { ...locals, values: { items, ownerId: req.user!.id, targetDate: amendments.defaultTargetDate() }, errors: {} });
  });

  r.post('/vendors/:id/amendments/new', editors, async (req, res) => {
    const vendorId = id(req.params.id, 'vendor');
    const body = req.body as Record<string, unknown>;
    await handleForm(res, 'contracts/amendment-new', await newAmendmentLocals(vendorId), asFormValues(body), async () => {
      const input = parseInput(openAmendmentSchema, body);
      const a = await amendments.open(actorOf(req), vendorId, input);
      flash(req, 'success', `Amendment request #${a.id} was opened.`);
      res.redirect(303, `/contracts/amendments/${a.id}`);
    });
  });

  // ---- One amendment request -----------------------------------------------------------------

  const renderAmendment = async (req: Request, res: Response, amendmentId: number, form?: { section: string; errors: Record<string, string>; values: Record<string, unknown> }) => {
    const a = await amendments.get(amendmentId);
    const [itemMap, comments, files, history, vendor] = await Promise.all([amendments.items([a.id]), amendments.comments(a.id), amendments.files(a.id), vendors.timelineOf('amendment', a.id), vendors.get(a.vendorId)]);
    const items = itemMap.get(a.id) ?? [];
    const [titles, rows, users] = await Promise.all([
      contracts.titles(items.map((i) => i.contractId)),
      contracts.clauseRows(items.map((i) => i.contractId)),
      contracts.userNames([a.ownerId, a.createdById, ...comments.map((c) => c.authorId), ...files.map((f) => f.uploadedById)]),
    ]);
    const now = ctx.clock.now();
    const role = req.user!.role;
    res.render('contracts/amendment', {
      title: `Amendment request #${a.id}`,
      a: { ...amendmentRow(a, items, new Map([[vendor.id, vendor.legalName]]), users, now), createdBy: a.createdById ? (users.get(a.createdById) ?? '') : '' },
      items: items.map((i) => {
        const clause = catalogue.get(i.clauseId);
        const current = rows.get(i.contractId)?.get(i.clauseId);
        const state = current?.status ?? 'not_reviewed';
        return {
          id: i.id,
          contractId: i.contractId,
          contractTitle: titles.get(i.contractId)?.title ?? `Contract ${i.contractId}`,
          clauseId: i.clauseId,
          clauseTitle: clause?.title ?? '(no longer in the catalogue)',
          citations: clause?.citations ?? [],
          statusAtOpening: CLAUSE_STATE_LABELS[i.statusAtOpening],
          state,
          stateLabel: CLAUSE_STATE_LABELS[state],
          reference: i.reference ?? current?.reference ?? null,
        };
      }),
      comments: comments.map((c) => ({ ...c, authorName: c.authorId ? (users.get(c.authorId) ?? 'A former user') : 'System' })),
      files: files.map((f) => ({ ...f, uploadedBy: f.uploadedById ? (users.get(f.uploadedById) ?? '') : '' })),
      history,
      // No move is preselected: a refusal or a withdrawal is never one click away.
      nextStatuses: [
        { value: '', label: '— choose —' },
        ...amendments
          .nextStatuses(a)
          .filter((s) => s !== 'executed')
          .map((value) => ({ value, label: AMENDMENT_STATUS_LABELS[value] })),
      ],
      canExecute: amendments.nextStatuses(a).includes('executed'),
      isOpen: ['drafted', 'sent', 'negotiating'].includes(a.status),
      canEdit: role === 'admin' || role === 'legal',
      ownerOptions: await ownerMenu(a.ownerId),
      documentDescription: DOCUMENT_DESCRIPTION,
      section: form?.section ?? null,
      errors: form?.errors ?? {},
      values: form?.values ?? {},
      editValues: form?.section === 'edit' ? form.values : { title: a.title, ownerId: a.ownerId ?? '', targetDate: a.targetDate },
    });
  };

  /** Runs a form on a detail page; a refusal that names fields (or any 400) comes back to the page. */
  const detailForm = (req: Request, res: Response, section: string, render: (form: FormSection) => Promise<void>, action: () => Promise<void>) =>
    handleSectionForm(res, section, (req.body ?? {}) as Record<string, unknown>, render, action);

  const amendmentForm = (section: string, action: (req: Request, res: Response, amendmentId: number) => Promise<void>) => async (req: Request, res: Response) => {
    const amendmentId = id(req.params.id, 'amendment request');
    await detailForm(req, res, section, (form) => renderAmendment(req, res, amendmentId, form), () => action(req, res, amendmentId));
  };

  r.get('/contracts/amendments/:id', staff, async (req, res) => {
    await renderAmendment(req, res, id(req.params.id, 'amendment request'));
  });

  r.post(
    '/contracts/amendments/:id',
    editors,
    amendmentForm('edit', async (req, res, amendmentId) => {
      const input = parseInput(editAmendmentSchema, req.body);
      await amendments.update(actorOf(req), amendmentId, input);
      flash(req, 'success', 'Saved.');
      res.redirect(303, `/contracts/amendments/${amendmentId}`);
    }),
  );

  r.post(
    '/contracts/amendments/:id/status',
    editors,
    amendmentForm('status', async (req, res, amendmentId) => {
      const input = parseInput(amendmentStatusSchema, req.body);
      const a = await amendments.transition(actorOf(req), amendmentId, input.to, input.reason ?? null);
      flash(req, 'success', a.status === 'refused' ? `Marked refused; finding #${a.findingId} was opened for a risk decision.` : `Status is now ${AMENDMENT_STATUS_LABELS[a.status]}.`);
      res.redirect(303, `/contracts/amendments/${amendmentId}`);
    }),
  );

  r.post(
    '/contracts/amendments/:id/execute',
    editors,
    upload('document', 220),
    amendmentForm('execute', async (req, res, amendmentId) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const references: Record<number, string> = {};
      for (const [k, v] of Object.entries(body)) {
        const m = /^reference__(\d{1,9})$/.exec(k);
        if (m && typeof v === 'string') references[Number(m[1])] = v;
      }
      await amendments.execute(actorOf(req), amendmentId, references, fileOf(req));
      flash(req, 'success', 'The amendment is executed; its clauses are now present in the contracts.');
      res.redirect(303, `/contracts/amendments/${amendmentId}`);
    }),
  );

  r.post(
    '/contracts/amendments/:id/comments',
    editors,
    amendmentForm('comment', async (req, res, amendmentId) => {
      const input = parseInput(commentSchema, req.body);
      await amendments.comment(actorOf(req), amendmentId, input.body);
      res.redirect(303, `/contracts/amendments/${amendmentId}#comments`);
    }),
  );

  r.post(
    '/contracts/amendments/:id/files',
    editors,
    upload('file'),
    amendmentForm('file', async (req, res, amendmentId) => {
      const file = fileOf(req);
      if (!file) throw new ValidationError({ file: 'Choose a file to attach.' });
      const f = await amendments.attach(actorOf(req), amendmentId, file);
      flash(req, 'success', `${f.fileName} was attached.`);
      res.redirect(303, `/contracts/amendments/${amendmentId}#files`);
    }),
  );

  r.get('/contracts/amendments/:id/files/:fileId', staff, async (req, res) => {
    const a = await amendments.get(id(req.params.id, 'amendment request'));
    await download(req, res, await amendments.file(a.id, id(req.params.fileId, 'file')));
  });

  // ---- A vendor's contracts: new contract, coverage ------------------------------------------

  const contractFormLocals = async (vendorId: number, exceptId?: number) => {
    const vendor = await vendors.get(vendorId);
    const others = (await contracts.forVendor(vendorId)).filter((c) => c.id !== exceptId);
    return { vendor, amendsOptions: [{ value: '', label: '— none —' }, ...others.map((c) => ({ value: c.id, label: `${c.title} (${CONTRACT_STATUS_LABELS[c.status]})` }))], ...formOptions };
  };

  r.get('/vendors/:id/contracts/new', editors, async (req, res) => {
    const locals = await contractFormLocals(id(req.params.id, 'vendor'));
    res.render('contracts/new', { ...locals, title: `Add a contract with ${locals.vendor.legalName}`, values: { type: 'msa', status: 'active' }, errors: {}, documentDescription: DOCUMENT_DESCRIPTION });
  });

  r.post('/vendors/:id/contracts/new', editors, upload('document'), async (req, res) => {
    const vendorId = id(req.params.id, 'vendor');
    const locals = await contractFormLocals(vendorId);
    const body = (req.body ?? {}) as Record<string, unknown>;
    await handleForm(res, 'contracts/new', { ...locals, title: `Add a contract with ${locals.vendor.legalName}`, documentDescription: DOCUMENT_DESCRIPTION }, body, async () => {
      const input = parseInput(contractSchema, body);
      const c = await contracts.create(actorOf(req), vendorId, input, fileOf(req) ?? undefined);
      flash(req, 'success', `${c.title} was added. Now review its clauses.`);
      res.redirect(303, `/contracts/${c.id}`);
    });
  });

  r.get('/vendors/:id/coverage', staff, async (req, res) => {
    const vendorId = id(req.params.id, 'vendor');
    const cov = await contracts.vendorCoverage(vendorId);
    const [open, vendorAmendments] = await Promise.all([contracts.openAmendmentsFor(cov.activeContracts.map((c) => c.id)), amendments.forVendor(vendorId)]);
    const [itemMap, users] = await Promise.all([amendments.items(vendorAmendments.map((a) => a.id)), contracts.userNames(vendorAmendments.map((a) => a.ownerId))]);
    const names = new Map([[vendorId, cov.vendor.legalName]]);
    const now = ctx.clock.now();
    res.render('contracts/coverage', {
      title: `Clause coverage: ${cov.vendor.legalName}`,
      vendor: cov.vendor,
      percent: cov.percent,
      activeContracts: cov.activeContracts.map((c) => ({ id: c.id, title: c.title, type: c.type, typeLabel: TYPE_LABELS[c.type] })),
      otherContracts: cov.otherContracts.map((c) => ({ id: c.id, title: c.title, status: c.status, statusLabel: CONTRACT_STATUS_LABELS[c.status] })),
      clauses: cov.clauses.map((x) => ({
        clause: clauseView(x.clause),
        state: x.state,
        label: CLAUSE_STATE_LABELS[x.state],
        cells: cov.activeContracts.map((c) => {
          const e = x.byContract.get(c.id)!;
          const taken = open.get(c.id)?.find((o) => o.clauseId === x.clause.id);
          return { contractId: c.id, state: e.state, label: CLAUSE_STATE_LABELS[e.state], reference: e.row?.reference ?? null, note: e.row?.note ?? null, gap: e.state === 'missing' || e.state === 'partial', openAmendmentId: taken?.amendmentId ?? null };
        }),
      })),
      notApplicable: cov.notApplicable.map((x) => ({ clause: clauseView(x.clause), why: x.why })),
      amendments: vendorAmendments.map((a) => amendmentRow(a, itemMap.get(a.id) ?? [], names, users, now)),
      canEdit: ['admin', 'legal'].includes(req.user!.role),
      catalogueErrors: catalogue.status.valid ? [] : catalogue.status.errors,
    });
  });

  // ---- One contract ----------------------------------------------------------------------------

  const renderContract = async (req: Request, res: Response, contractId: number, form?: { section: string; errors: Record<string, string>; values: Record<string, unknown> }) => {
    const c = await contracts.get(contractId);
    const [vendor, documents, history, checklist, contractAmendments, open, amended, amendedBy, locals] = await Promise.all([
      vendors.get(c.vendorId),
      contracts.documentHistory(c.id),
      vendors.timelineOf('contract', c.id),
      contracts.checklist(c),
      amendments.forContract(c.id),
      contracts.openAmendmentsFor([c.id]),
      c.amendsId ? contracts.titles([c.amendsId]) : Promise.resolve(new Map()),
      contracts.amendedBy(c.id),
      contractFormLocals(c.vendorId, c.id),
    ]);
    const today = contracts.today();
    const users = await contracts.userNames([...documents.map((d) => d.uploadedById), ...checklist.rows.map((x) => x.row?.reviewedById ?? null), ...contractAmendments.map((a) => a.ownerId)]);
    const row = contractRow(c, new Map([[vendor.id, vendor.legalName]]), new Map(documents.length ? [[c.id, documents[0]!]] : []), today);
    const role = req.user!.role;
    const openByClause = new Map((open.get(c.id) ?? []).map((o) => [o.clauseId, o.amendmentId]));
    const gaps = checklist.rows.filter((x) => (x.state === 'missing' || x.state === 'partial') && !openByClause.has(x.clause.id));
    const itemMap = await amendments.items(contractAmendments.map((a) => a.id));
    res.render('contracts/show', {
      title: c.title,
      c: row,
      vendor,
      amends: c.amendsId ? (amended.get(c.amendsId) ?? null) : null,
      amendedBy,
      documents: documents.map((d) => ({ ...d, uploadedBy: d.uploadedById ? (users.get(d.uploadedById) ?? '') : '' })),
      checklist: checklist.rows.map((x) => ({
        clause: clauseView(x.clause),
        state: x.state,
        label: CLAUSE_STATE_LABELS[x.state],
        reference: x.row?.reference ?? '',
        note: x.row?.note ?? '',
        amendmentId: x.row?.amendmentId ?? null,
        reviewedBy: x.row?.reviewedById ? (users.get(x.row.reviewedById) ?? '') : '',
        reviewedAt: x.row?.reviewedAt ?? null,
        openAmendmentId: openByClause.get(x.clause.id) ?? null,
      })),
      notApplicable: checklist.notApplicable.map((x) => ({ clause: clauseView(x.clause), why: x.why })),
      retired: checklist.retired,
      history,
      amendments: contractAmendments.map((a) => amendmentRow(a, itemMap.get(a.id) ?? [], new Map([[vendor.id, vendor.legalName]]), users, ctx.clock.now())),
      gapItems: gaps.map((x) => `${c.id}:${x.clause.id}`),
      canEdit: role === 'admin' || role === 'legal',
      amendsOptions: locals.amendsOptions,
      documentDescription: DOCUMENT_DESCRIPTION,
      catalogueErrors: catalogue.status.valid ? [] : catalogue.status.errors,
      ...formOptions,
      section: form?.section ?? null,
      errors: form?.errors ?? {},
      values: form?.values ?? {},
      editValues:
        form?.section === 'edit'
          ? form.values
          : { title: c.title, type: c.type, status: c.status, effectiveOn: c.effectiveOn, expiresOn: c.expiresOn, signedOn: c.signedOn, autoRenews: c.autoRenews ? 'on' : '', noticeDays: c.noticeDays ?? '', amendsId: c.amendsId ?? '', notes: c.notes },
    });
  };

  const contractForm = (section: string, action: (req: Request, res: Response, contractId: number) => Promise<void>) => async (req: Request, res: Response) => {
    const contractId = id(req.params.id, 'contract');
    await detailForm(req, res, section, (form) => renderContract(req, res, contractId, form), () => action(req, res, contractId));
  };

  r.get('/contracts/:id', staff, async (req, res) => {
    await renderContract(req, res, id(req.params.id, 'contract'));
  });

  r.post(
    '/contracts/:id',
    editors,
    contractForm('edit', async (req, res, contractId) => {
      const input = parseInput(contractSchema, req.body);
      await contracts.update(actorOf(req), contractId, input);
      flash(req, 'success', 'Saved.');
      res.redirect(303, `/contracts/${contractId}`);
    }),
  );

  r.post(
    '/contracts/:id/clauses',
    editors,
    contractForm('clauses', async (req, res, contractId) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const entries: { clauseId: string; review: ClauseReviewInput }[] = [];
      const errors: Record<string, string> = {};
      for (const clause of catalogue.list()) {
        if (body[`status__${clause.id}`] === undefined) continue;
        const parsed = clauseReviewSchema.safeParse({ status: body[`status__${clause.id}`], reference: body[`reference__${clause.id}`] ?? '', note: body[`note__${clause.id}`] ?? '' });
        if (!parsed.success) {
          for (const [field, reason] of Object.entries(fieldErrors(parsed.error))) errors[`${field}__${clause.id}`] = `${clause.id}: ${reason}`;
          continue;
        }
        checkReview(clause.id, parsed.data, errors);
        entries.push({ clauseId: clause.id, review: parsed.data });
      }
      if (Object.keys(errors).length) throw new ValidationError(errors);
      const changed = await contracts.reviewClauses(actorOf(req), contractId, entries);
      flash(req, 'success', changed ? `${changed} clause${changed === 1 ? '' : 's'} updated.` : 'Nothing changed.');
      res.redirect(303, `/contracts/${contractId}#clauses`);
    }),
  );

  r.post(
    '/contracts/:id/document',
    editors,
    upload('document'),
    contractForm('document', async (req, res, contractId) => {
      const file = fileOf(req);
      if (!file) throw new ValidationError({ document: 'Choose the signed document to upload.' });
      const f = await contracts.uploadDocument(actorOf(req), contractId, file);
      flash(req, 'success', `${f.fileName} is now the signed document.`);
      res.redirect(303, `/contracts/${contractId}#document`);
    }),
  );

  r.get('/contracts/:id/files/:fileId', staff, async (req, res) => {
    const c = await contracts.get(id(req.params.id, 'contract'));
    await download(req, res, await contracts.contractFile(c.id, id(req.params.fileId, 'file')));
  });

  // ---- The clause catalogue ----------------------------------------------------------------------

  r.get('/admin/clauses', requireRole('admin', 'legal', 'viewer'), (_req, res) => {
    const status = catalogue.status;
    res.render('contracts/clauses', { title: 'Clause catalogue', status, clauses: catalogue.list().map(clauseView) });
  });

  r.post('/admin/clauses/reload', requireRole('admin'), async (req, res) => {
    const read = catalogue.reload();
    // Which catalogue contracts were checked against, and since when, belongs in the trail.
    await ctx.transact((m) =>
      recordAudit(m, ctx.clock, actorOf(req), {
        action: 'clause_catalogue.reloaded',
        entityType: 'clause_catalogue',
        entityId: read.file,
        details: { valid: read.valid, version: read.version, contentHash: read.contentHash, clauses: read.clauses.map((c) => c.id), inForceVersion: catalogue.status.inForceVersion, problems: read.errors.slice(0, 20) },
      }),
    );
    if (read.valid) flash(req, 'success', `Catalogue read again: version ${read.version}, ${read.clauses.length} clauses.`);
    else flash(req, 'error', `The catalogue file has ${read.errors.length} problem${read.errors.length === 1 ? '' : 's'}; the version read before stays in force.`);
    res.redirect(303, '/admin/clauses');
  });

  return r;
}

