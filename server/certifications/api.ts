import { Router } from 'express';
import type { Context } from '../context';
import { NotFoundError } from '../errors';
import { requireRole } from '../http/auth';
import { pageNumber, parseInput } from '../http/forms';
import { actorOf } from '../http/request';
import { pageSizeSchema } from '../vendors/api';
import { certificationJson, verificationJson } from './present';
import { apiRequestSchema, apiRevokeSchema, listQuerySchema, toFilter } from './schema';

/** Legal and administrators ask for, resend and withdraw certifications; reviewers may also confirm uploads. */
const requesters = requireRole('admin', 'legal');
const confirmers = requireRole('admin', 'legal', 'reviewer');

function id(raw: string | string[] | undefined, what: string): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError(`No such ${what}.`);
  return Number(s);
}

/** /api/v1 certifications: list, request, read, verify, resend, withdraw, confirm; see openapi.ts. */
export function certificationApi(ctx: Context): Router {
  const r = Router();
  const service = ctx.certifications;

  r.get('/certifications', requireRole(), async (req, res) => {
    const query = parseInput(listQuerySchema, req.query);
    const page = pageNumber(req.query.page);
    const pageSize = parseInput(pageSizeSchema, req.query.pageSize);
    const { rows, total } = await service.list(toFilter(query), page, pageSize);
    const today = service.today();
    res.json({ data: rows.map((c) => certificationJson(c, today)), page, pageSize, total });
  });

  r.get('/vendors/:id/certifications', requireRole(), async (req, res) => {
    const v = await ctx.vendors.get(id(req.params.id, 'vendor'));
    const today = service.today();
    res.json({ data: (await service.forVendor(v.id)).map((c) => certificationJson(c, today)) });
  });

  r.post('/vendors/:id/certifications', requesters, async (req, res) => {
    const input = parseInput(apiRequestSchema, req.body);
    const { certification, link } = await service.request(actorOf(req), { vendorId: id(req.params.id, 'vendor'), contactId: input.contactId, templateId: input.templateId, dueDate: input.dueDate, questionnaireId: input.questionnaireId ?? null });
    res.status(201).location(`/api/v1/certifications/${certification.id}`).json({ ...certificationJson(certification, service.today(), true), link });
  });

  r.get('/certifications/:id', requireRole(), async (req, res) => {
    const c = await service.get(id(req.params.id, 'certification'));
    res.json(certificationJson(c, service.today(), true));
  });

  r.post('/certifications/:id/verify', requireRole(), async (req, res) => {
    res.json(verificationJson(await service.verify(actorOf(req), id(req.params.id, 'certification'))));
  });

  r.post('/certifications/:id/resend', requesters, async (req, res) => {
    const certificationId = id(req.params.id, 'certification');
    const link = await service.resend(actorOf(req), certificationId);
    res.json({ ...certificationJson(await service.get(certificationId), service.today()), link });
  });

  r.post('/certifications/:id/revoke', requesters, async (req, res) => {
    const certificationId = id(req.params.id, 'certification');
    const input = parseInput(apiRevokeSchema, req.body);
    await service.revoke(actorOf(req), certificationId, input.reason);
    res.json(certificationJson(await service.get(certificationId), service.today()));
  });

  r.post('/certifications/:id/confirm', confirmers, async (req, res) => {
    const c = await service.confirmUpload(actorOf(req), id(req.params.id, 'certification'));
    res.json(certificationJson(c, service.today()));
  });

  return r;
}
