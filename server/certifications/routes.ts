import { type Request, type Response, Router } from 'express';
import { recordAudit } from '../audit/service';
import type { Context } from '../context';
import { ConflictError, NotFoundError } from '../errors';
import { requireRole, requireUser } from '../http/auth';
import { handleForm, handleSectionForm, pageNumber, parseInput } from '../http/forms';
import { actorOf, flash } from '../http/request';
import { Questionnaire } from '../questionnaires/entities';
import type { Certification } from './entities';
import { sendCsv } from '../csv';
import { auditExport, hrefWith } from '../reports/exports';
import { CERTIFICATION_COLUMNS, certificationCsvRow } from './csv';
import { certificatePdf } from './pdf';
import { certificationDetail, certificationRow } from './present';
import { type CertificationListQuery, listQuerySchema, rejectUploadSchema, requestSchema, revokeSchema, toFilter } from './schema';
import { addDays, DEFAULT_DUE_DAYS, DISPLAY_STATUSES, STATUS_LABELS, type Verification } from './service';
import { CERTIFICATION_PURPOSES, PURPOSE_LABELS, renderStatement } from './template';

const PAGE_SIZE = 50;

/** Legal and administrators ask for, resend and withdraw certifications. */
const requesters = requireRole('admin', 'legal');
/** Uploaded signed PDFs are confirmed by legal, administrators or security reviewers. */
const confirmers = requireRole('admin', 'legal', 'reviewer');

function id(raw: unknown, what: string): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError(`No such ${what}.`);
  return Number(s);
}

/** The list's address with these filters, for links that keep the list's state. */
function listHref(q: CertificationListQuery, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const qs = params.toString();
  return qs ? `/certifications?${qs}` : '/certifications';
}

/** Staff pages: request from a vendor, the list of all certifications, one certification with its certificate and checks. */
export function certificationRoutes(ctx: Context): Router {
  const r = Router();
  const { certifications: service, certificationTemplates: templates, vendors } = ctx;
  // Mounted at the root, so each route names its guard (a router-wide guard would catch every URL).
  const staff = requireUser();

  const userNames = async (ids: (number | null)[]) => {
    const users = await vendors.usersById(ids);
    return (uid: number | null) => (uid ? (users.get(uid)?.name ?? 'a former user') : null);
  };

  r.get('/certifications', staff, async (req, res) => {
    const query = parseInput(listQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const { rows, total } = await service.list(toFilter(query), page, PAGE_SIZE);
    const names = await vendors.namesById(query.vendor ? [...rows.map((c) => c.vendorId), query.vendor] : rows.map((c) => c.vendorId));
    const today = service.today();
    res.render('certifications/list', {
      title: 'Certifications',
      rows: rows.map((c) => certificationRow(c, names, today)),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      query,
      filtered: Object.values(query).some((v) => v !== undefined),
      vendorName: query.vendor ? (names.get(query.vendor) ?? null) : null,
      withoutVendorHref: listHref({ ...query, vendor: undefined }),
      href: (extra: Record<string, string>) => listHref(query, extra),
      exportHref: hrefWith('/certifications.csv', query),
      statusOptions: DISPLAY_STATUSES.map((value) => ({ value, label: STATUS_LABELS[value] })),
      purposeOptions: CERTIFICATION_PURPOSES.map((value) => ({ value, label: PURPOSE_LABELS[value] })),
      templateOptions: templates.list().map((t) => ({ value: t.id, label: `${t.title} (${t.id})` })),
    });
  });

  r.get('/certifications.csv', staff, async (req, res) => {
    const query = parseInput(listQuerySchema, req.query);
    const filter = toFilter(query);
    await auditExport(ctx, req, 'certifications', query);
    const today = service.today();
    await sendCsv(res, `certifications-${today}.csv`, CERTIFICATION_COLUMNS, async (n, batch) => {
      const { rows } = await service.list(filter, n, batch);
      const names = await vendors.namesById(rows.map((c) => c.vendorId));
      return rows.map((c) => certificationCsvRow(certificationRow(c, names, today)));
    });
  });

  r.get('/certifications/templates', staff, (_req, res) => {
    res.render('certifications/templates', {
      title: 'Certification templates',
      templates: templates.list().map((t) => ({ ...t, preview: t.template ? renderStatement(t.template, { vendor: '[vendor]', organization: ctx.config.organizationName }) : null })),
      purposeLabels: PURPOSE_LABELS,
    });
  });

  r.post('/certifications/templates/reload', requireRole('admin'), (req, res) => {
    const list = templates.reload();
    flash(req, 'success', `Certification templates read again: ${list.filter((t) => t.valid).length} valid, ${list.filter((t) => !t.valid).length} invalid.`);
    res.redirect(303, '/certifications/templates');
  });

  const requestLocals = async (vendorId: number, questionnaireId: number | null) => {
    const vendor = await vendors.get(vendorId);
    const contacts = await vendors.contacts(vendor.id);
    const questionnaire = questionnaireId
      ? await ctx.ds.getRepository(Questionnaire).findOne({ where: { id: questionnaireId, vendorId: vendor.id }, select: ['id', 'title', 'contactId', 'status'] })
      : null;
    if (questionnaireId && !questionnaire) throw new NotFoundError('This vendor has no such questionnaire.');
    return {
      title: `Request a certification from ${vendor.legalName}`,
      vendor,
      questionnaire,
      earlier: questionnaire ? await service.forQuestionnaire(questionnaire.id) : [],
      contactOptions: contacts.map((c) => ({ value: c.id, label: `${c.name} <${c.email}>${c.isSecurityContact ? ' (security contact)' : ''}` })),
      templateOptions: templates
        .list()
        .filter((t) => t.valid)
        .map((t) => ({ value: t.id, label: `${t.title} (version ${t.version})` })),
    };
  };

  r.get('/vendors/:id/certifications/new', requesters, async (req, res) => {
    const questionnaireId = typeof req.query.questionnaire === 'string' && /^\d{1,9}$/.test(req.query.questionnaire) ? Number(req.query.questionnaire) : null;
    const locals = await requestLocals(id(req.params.id, 'vendor'), questionnaireId);
    const contacts = await vendors.contacts(locals.vendor.id);
    const contactId = locals.questionnaire?.contactId && contacts.some((c) => c.id === locals.questionnaire!.contactId) ? locals.questionnaire.contactId : (contacts.find((c) => c.isSecurityContact)?.id ?? '');
    const wanted = typeof req.query.template === 'string' ? templates.get(req.query.template) : null;
    const templateId = wanted?.id ?? (locals.vendor.status === 'offboarding' ? templates.forPurpose('disposal')?.id : templates.forPurpose('annual')?.id) ?? '';
    res.render('certifications/request', { ...locals, values: { contactId, templateId, dueDate: addDays(service.today(), DEFAULT_DUE_DAYS), questionnaireId: locals.questionnaire?.id ?? '' }, errors: {} });
  });

  r.post('/vendors/:id/certifications/new', requesters, async (req, res) => {
    const vendorId = id(req.params.id, 'vendor');
    const body = req.body as Record<string, unknown>;
    const questionnaireId = typeof body.questionnaireId === 'string' && /^\d{1,9}$/.test(body.questionnaireId) ? Number(body.questionnaireId) : null;
    await handleForm(res, 'certifications/request', await requestLocals(vendorId, questionnaireId), body, async () => {
      const input = parseInput(requestSchema, body);
      const { certification, link } = await service.request(actorOf(req), { vendorId, contactId: input.contactId, templateId: input.templateId, dueDate: input.dueDate, questionnaireId: input.questionnaireId ?? null });
      res.status(201).render('certifications/sent', { title: 'Certification requested', c: certification, link });
    });
  });

  /** Renders the certification page; a form on it that fails comes back here with its errors. */
  const renderDetail = async (req: Request, res: Response, certificationId: number, extra: { section?: string; errors?: Record<string, string>; values?: Record<string, unknown>; verification?: Verification } = {}) => {
    const c = await service.get(certificationId);
    const [vendor, nameOf, history] = await Promise.all([vendors.get(c.vendorId), userNames([c.requestedById, c.confirmedById]), vendors.timelineOf('certification', c.id)]);
    const role = req.user!.role;
    res.render('certifications/show', {
      title: c.title,
      c: certificationDetail(c, { vendor: vendor.legalName, requestedBy: nameOf(c.requestedById), confirmedBy: nameOf(c.confirmedById) }, service.today()),
      vendor,
      history,
      canManage: (role === 'admin' || role === 'legal') && (c.status === 'requested' || c.status === 'uploaded'),
      canResend: (role === 'admin' || role === 'legal') && c.status === 'requested',
      canConfirm: (role === 'admin' || role === 'legal' || role === 'reviewer') && c.status === 'uploaded',
      verification: extra.verification ?? null,
      section: extra.section ?? null,
      errors: extra.errors ?? {},
      values: extra.values ?? {},
    });
  };

  const detailForm = async (req: Request, res: Response, section: string, action: () => Promise<void>) => {
    const certificationId = id(req.params.id, 'certification');
    await handleSectionForm(res, section, (req.body ?? {}) as Record<string, unknown>, (form) => renderDetail(req, res, certificationId, form), action);
  };

  r.get('/certifications/:id', staff, async (req, res) => {
    await renderDetail(req, res, id(req.params.id, 'certification'));
  });

  /** Recomputes the hashes; the result shows on the page and goes to the audit trail. */
  r.post('/certifications/:id/verify', staff, async (req, res) => {
    const certificationId = id(req.params.id, 'certification');
    const verification = await service.verify(actorOf(req), certificationId);
    await renderDetail(req, res, certificationId, { verification });
  });

  const signedOnly = (c: Certification) => {
    if (c.status !== 'signed') throw new ConflictError('Only a signed certification has a certificate.');
  };

  r.get('/certifications/:id/certificate', staff, async (req, res) => {
    const c = await service.get(id(req.params.id, 'certification'));
    signedOnly(c);
    const [vendor, nameOf, verification] = await Promise.all([vendors.get(c.vendorId), userNames([c.requestedById, c.confirmedById]), service.verify(null, c.id)]);
    res.render('certifications/certificate', {
      title: `Certificate: ${c.title}`,
      c: certificationDetail(c, { vendor: vendor.legalName, requestedBy: nameOf(c.requestedById), confirmedBy: nameOf(c.confirmedById) }, service.today()),
      organizationName: ctx.config.organizationName,
      verification,
    });
  });

  r.get('/certifications/:id/certificate.pdf', staff, async (req, res) => {
    const c = await service.get(id(req.params.id, 'certification'));
    signedOnly(c);
    const [vendor, nameOf, verification] = await Promise.all([vendors.get(c.vendorId), userNames([c.confirmedById]), service.verify(null, c.id)]);
    const pdf = await certificatePdf({
      organizationName: ctx.config.organizationName,
      vendorName: vendor.legalName,
      title: c.title,
      statement: c.statement,
      templateId: c.templateId,
      templateVersion: c.templateVersion,
      textSha256: c.textSha256,
      signature: {
        method: c.method ?? 'link',
        signerName: c.signerName ?? '',
        signerTitle: c.signerTitle ?? '',
        signerCompany: c.signerCompany ?? '',
        typedSignature: c.signature,
        signedAt: c.signedAt!,
        ip: c.signedIp,
        userAgent: c.signedUserAgent,
        linkId: c.signedLinkId,
        file: c.fileSha256 ? { name: c.fileName ?? '', sha256: c.fileSha256 } : null,
        confirmedBy: nameOf(c.confirmedById),
        confirmedAt: c.confirmedAt,
        expiresOn: c.expiresOn,
        sealSha256: c.sealSha256,
      },
      verified: verification.ok,
      generatedAt: ctx.clock.now(),
    });
    await ctx.transact((m) => recordAudit(m, ctx.clock, actorOf(req), { action: 'certification.certificate_downloaded', entityType: 'certification', entityId: c.id }));
    res.set('Content-Type', 'application/pdf');
    res.set('Content-Disposition', `attachment; filename="certification-${c.id}-${c.templateId}.pdf"`);
    res.send(pdf);
  });

  r.get('/certifications/:id/file', staff, async (req, res) => {
    const c = await service.get(id(req.params.id, 'certification'));
    if (!c.storedName || !c.fileName) throw new NotFoundError('This certification has no uploaded file.');
    await ctx.transact((m) => recordAudit(m, ctx.clock, actorOf(req), { action: 'certification.file_downloaded', entityType: 'certification', entityId: c.id, details: { fileName: c.fileName } }));
    res.set('Content-Type', 'application/pdf');
    res.set('Content-Disposition', `attachment; filename="${c.fileName.replace(/[^\x20-\x7e]|"/g, '_')}"; filename*=UTF-8''${encodeURIComponent(c.fileName)}`);
    res.set('X-Content-Type-Options', 'nosniff');
    await ctx.evidence.pipeTo(c.storedName, res);
  });

  r.post('/certifications/:id/resend', requesters, async (req, res) => {
    const certificationId = id(req.params.id, 'certification');
    const link = await service.resend(actorOf(req), certificationId);
    res.render('certifications/sent', { title: 'New link sent', c: await service.get(certificationId), link, resent: true });
  });

  r.post('/certifications/:id/revoke', requesters, async (req, res) => {
    await detailForm(req, res, 'revoke', async () => {
      const input = parseInput(revokeSchema, req.body);
      const certificationId = id(req.params.id, 'certification');
      await service.revoke(actorOf(req), certificationId, input.reason);
      flash(req, 'success', 'The request was withdrawn; its link no longer works.');
      res.redirect(303, `/certifications/${certificationId}`);
    });
  });

  r.post('/certifications/:id/confirm', confirmers, async (req, res) => {
    const c = await service.confirmUpload(actorOf(req), id(req.params.id, 'certification'));
    flash(req, 'success', `The uploaded copy is confirmed: the certification is signed${c.expiresOn ? ` and in force until ${c.expiresOn}` : ''}.`);
    res.redirect(303, `/certifications/${c.id}`);
  });

  r.post('/certifications/:id/reject-upload', confirmers, async (req, res) => {
    await detailForm(req, res, 'reject', async () => {
      const input = parseInput(rejectUploadSchema, req.body);
      const certificationId = id(req.params.id, 'certification');
      await service.rejectUpload(actorOf(req), certificationId, input.reason);
      flash(req, 'success', 'The upload was refused; the vendor was sent a new link with your reason.');
      res.redirect(303, `/certifications/${certificationId}`);
    });
  });

  return r;
}
