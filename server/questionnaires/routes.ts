import { Router } from 'express';
import { z } from 'zod';
import { recordAudit } from '../audit/service';
import type { Context } from '../context';
import { NotFoundError } from '../errors';
import { requireRole, requireUser } from '../http/auth';
import { handleForm, pageNumber, parseInput, text } from '../http/forms';
import { actorOf, flash } from '../http/request';
import { isoDate } from '../vendors/schema';
import { answeredSections } from './portal-routes';
import { auditExport, hrefWith } from '../reports/exports';
import { sendCsv } from '../csv';
import { QUESTIONNAIRE_COLUMNS, questionnaireCsvRow } from './csv';
import { addDays, DEFAULT_DUE_DAYS, DUE_SOON_DAYS, type QuestionnaireFilter, STATUS_LABELS } from './service';

const editors = requireRole('admin', 'procurement');
const PAGE_SIZE = 50;

const sendSchema = z.object({
  contactId: z.coerce.number({ error: 'Choose a contact.' }).int('Choose a contact.').positive('Choose a contact.'),
  templateId: z.string({ error: 'Choose a template.' }).min(1, 'Choose a template.').max(64),
  dueDate: isoDate('Due date'),
});

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);

/** The list's query string: filters shared by the page and its CSV export. */
export const questionnaireListQuerySchema = z.object({
  status: z.preprocess(blankToUndefined, z.enum(Object.keys(STATUS_LABELS) as [keyof typeof STATUS_LABELS, ...(keyof typeof STATUS_LABELS)[]], { error: `status must be one of: ${Object.keys(STATUS_LABELS).join(', ')}.` }).optional()),
  due: z.preprocess(blankToUndefined, z.enum(['soon', 'overdue'], { error: 'due must be "soon" or "overdue".' }).optional()),
  vendor: z.preprocess(blankToUndefined, z.coerce.number({ error: 'vendor must be a vendor id.' }).int('vendor must be a vendor id.').positive('vendor must be a vendor id.').optional()),
});

type QuestionnaireListQuery = z.infer<typeof questionnaireListQuerySchema>;

function toQuestionnaireFilter(q: QuestionnaireListQuery): QuestionnaireFilter {
  return { status: q.status, due: q.due, vendorId: q.vendor };
}

// The refine sits on the object: on the optional field itself it would let a missing date through.
const extendSchema = z.object({ dueDate: isoDate('New due date') }).refine((v) => !!v.dueDate, { path: ['dueDate'], message: 'New due date is required.' });
const revokeSchema = z.object({ reason: text('Reason', 1000) });

function id(raw: unknown, what: string): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError(`No such ${what}.`);
  return Number(s);
}

/** Staff pages: send a questionnaire from a vendor, follow it, read answers and download evidence. */
export function questionnaireRoutes(ctx: Context): Router {
  const r = Router();
  const { questionnaires: service, vendors, templates } = ctx;
  // Mounted at the root, so each route names its guard (a router-wide guard would catch every URL).
  const staff = requireUser();

  const sendLocals = async (vendorId: number) => {
    const vendor = await vendors.get(vendorId);
    const contacts = await vendors.contacts(vendor.id);
    return {
      title: `Send a questionnaire to ${vendor.legalName}`,
      vendor,
      contactOptions: contacts.map((c) => ({ value: c.id, label: `${c.name} <${c.email}>${c.isSecurityContact ? ' (security contact)' : ''}` })),
      templateOptions: templates
        .list()
        .filter((t) => t.valid)
        .map((t) => ({ value: t.id, label: `${t.title} (version ${t.version})` })),
    };
  };

  r.get('/vendors/:id/questionnaires/new', editors, async (req, res) => {
    const locals = await sendLocals(id(req.params.id, 'vendor'));
    const security = (await vendors.contacts(locals.vendor.id)).find((c) => c.isSecurityContact);
    res.render('questionnaires/send', { ...locals, values: { contactId: security?.id ?? '', templateId: 'ma-201-cmr-17-due-diligence', dueDate: addDays(service.today(), DEFAULT_DUE_DAYS) }, errors: {} });
  });

  r.post('/vendors/:id/questionnaires/new', editors, async (req, res) => {
    const vendorId = id(req.params.id, 'vendor');
    const body = req.body as Record<string, unknown>;
    await handleForm(res, 'questionnaires/send', await sendLocals(vendorId), body, async () => {
      const input = parseInput(sendSchema, body);
      const { questionnaire, link } = await service.send(actorOf(req), { vendorId, contactId: input.contactId, templateId: input.templateId, dueDate: input.dueDate });
      res.status(201).render('questionnaires/sent', { title: 'Questionnaire sent', q: questionnaire, link });
    });
  });

  r.get('/questionnaires', staff, async (req, res) => {
    const query = parseInput(questionnaireListQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const { rows, total } = await service.list(toQuestionnaireFilter(query), page, PAGE_SIZE);
    const names = await vendors.namesById(query.vendor ? [...rows.map((q) => q.vendorId), query.vendor] : rows.map((q) => q.vendorId));
    res.render('questionnaires/list', {
      title: 'Questionnaires',
      rows: rows.map((q) => ({ ...q, vendorName: names.get(q.vendorId) ?? '', statusLabel: STATUS_LABELS[service.displayStatus(q)], displayStatus: service.displayStatus(q) })),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      query,
      filtered: Object.values(query).some((v) => v !== undefined),
      vendorName: query.vendor ? (names.get(query.vendor) ?? null) : null,
      href: (extra: Record<string, string>) => hrefWith('/questionnaires', query, extra),
      exportHref: hrefWith('/questionnaires.csv', query),
      statusOptions: Object.entries(STATUS_LABELS).map(([value, label]) => ({ value, label })),
      dueOptions: [
        { value: 'soon', label: `Due within ${DUE_SOON_DAYS} days` },
        { value: 'overdue', label: 'Past due (link still open)' },
      ],
    });
  });

  r.get('/questionnaires.csv', staff, async (req, res) => {
    const query = parseInput(questionnaireListQuerySchema, req.query);
    const filter = toQuestionnaireFilter(query);
    await auditExport(ctx, req, 'questionnaires', query);
    await sendCsv(res, `questionnaires-${service.today()}.csv`, QUESTIONNAIRE_COLUMNS, async (n, batch) => {
      const { rows } = await service.list(filter, n, batch);
      const names = await vendors.namesById(rows.map((q) => q.vendorId));
      return rows.map((q) => questionnaireCsvRow(q, names, service.displayStatus(q)));
    });
  });

  r.get('/questionnaires/:id', staff, async (req, res) => {
    const q = await service.get(id(req.params.id, 'questionnaire'));
    const [{ answers, files }, vendor, history] = await Promise.all([service.content(q.id), vendors.get(q.vendorId), ctx.vendors.timelineOf('questionnaire', q.id)]);
    const byQuestion = new Map<string, typeof files>();
    for (const f of files) byQuestion.set(f.questionId, [...(byQuestion.get(f.questionId) ?? []), f]);
    const status = service.displayStatus(q);
    res.render('questionnaires/show', {
      title: q.title,
      q,
      vendor,
      status,
      statusLabel: STATUS_LABELS[status],
      progress: service.progress(q, answers, files),
      sections: answeredSections(q, answers, byQuestion, service.today()),
      history,
      canManage: ['admin', 'procurement'].includes(req.user!.role) && ['sent', 'in_progress', 'returned'].includes(q.status),
      canReview: ['admin', 'reviewer'].includes(req.user!.role) && ['submitted', 'returned', 'approved', 'rejected'].includes(q.status),
      values: {},
      errors: {},
    });
  });

  r.get('/questionnaires/:id/files/:fileId', staff, async (req, res) => {
    const q = await service.get(id(req.params.id, 'questionnaire'));
    const f = await service.file(q.id, id(req.params.fileId, 'file'));
    await ctx.transact((m) => recordAudit(m, ctx.clock, actorOf(req), { action: 'evidence.downloaded', entityType: 'questionnaire', entityId: q.id, details: { fileId: f.id, fileName: f.fileName } }));
    res.set('Content-Type', f.mediaType);
    res.set('Content-Disposition', `attachment; filename="${f.fileName.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(f.fileName)}`);
    res.set('Content-Length', String(f.size));
    res.set('X-Content-Type-Options', 'nosniff');
    try {
      await ctx.evidence.pipeTo(f.storedName, res);
    } catch (err) {
      // The client went away mid-download (or closed on the last byte): nothing left to answer.
      if ((err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
    }
  });

  r.post('/questionnaires/:id/resend', editors, async (req, res) => {
    const qid = id(req.params.id, 'questionnaire');
    const link = await service.resend(actorOf(req), qid);
    const q = await service.get(qid);
    res.render('questionnaires/sent', { title: 'New link sent', q, link, resent: true });
  });

  r.post('/questionnaires/:id/revoke', editors, async (req, res) => {
    const qid = id(req.params.id, 'questionnaire');
    const input = parseInput(revokeSchema, req.body);
    await service.revoke(actorOf(req), qid, input.reason);
    flash(req, 'success', 'The questionnaire was revoked; its link no longer works.');
    res.redirect(303, `/questionnaires/${qid}`);
  });

  r.post('/questionnaires/:id/extend', editors, async (req, res) => {
    const qid = id(req.params.id, 'questionnaire');
    const input = parseInput(extendSchema, req.body);
    await service.extend(actorOf(req), qid, input.dueDate!);
    flash(req, 'success', `The due date is now ${input.dueDate}.`);
    res.redirect(303, `/questionnaires/${qid}`);
  });

  r.get('/admin/templates', requireRole('admin', 'procurement', 'reviewer', 'viewer'), (_req, res) => {
    res.render('questionnaires/templates', { title: 'Questionnaire templates', templates: templates.list() });
  });

  r.post('/admin/templates/reload', requireRole('admin'), (req, res) => {
    const list = templates.reload();
    flash(req, 'success', `Templates read again: ${list.filter((t) => t.valid).length} valid, ${list.filter((t) => !t.valid).length} invalid.`);
    res.redirect(303, '/admin/templates');
  });

  r.get('/admin/templates/:templateId', requireRole('admin', 'procurement', 'reviewer', 'viewer'), (req, res) => {
    const t = templates.find(String(req.params.templateId));
    if (!t) throw new NotFoundError('No such template.');
    res.render('questionnaires/template', { title: t.title, t });
  });

  return r;
}

export { DEFAULT_DUE_DAYS };
