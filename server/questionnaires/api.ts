import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../context';
import { NotFoundError } from '../errors';
import { requireRole } from '../http/auth';
import { parseInput } from '../http/forms';
import { actorOf } from '../http/request';
import { isoDate } from '../vendors/schema';
import type { Questionnaire } from './entities';
import type { QuestionnaireService } from './service';

export const apiSendSchema = z
  .object({
    contactId: z.number({ error: 'contactId must be the id of one of the vendor\'s contacts.' }).int().positive(),
    templateId: z.string({ error: 'templateId is required.' }).min(1).max(64),
    dueDate: isoDate('dueDate'),
  })
  .strict();

function id(raw: unknown, what: string): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError(`No such ${what}.`);
  return Number(s);
}

function summary(service: QuestionnaireService, q: Questionnaire) {
  return {
    id: q.id,
    vendorId: q.vendorId,
    title: q.title,
    template: { id: q.templateId, version: q.templateVersion, contentHash: q.templateHash },
    status: service.displayStatus(q),
    recipient: { name: q.recipientName, email: q.recipientEmail },
    dueDate: q.dueDate,
    sentAt: q.sentAt.toISOString(),
    firstOpenedAt: q.firstOpenedAt?.toISOString() ?? null,
    submittedAt: q.submittedAt?.toISOString() ?? null,
  };
}

/** Questionnaires in the API: send, list a vendor's, read one with answers and evidence metadata. */
export function questionnaireApi(ctx: Context): Router {
  const r = Router();
  const service = ctx.questionnaires;

  r.get('/vendors/:id/questionnaires', requireRole(), async (req, res) => {
    const v = await ctx.vendors.get(id(req.params.id, 'vendor'));
    const rows = await service.forVendor(v.id);
    res.json({ data: rows.map((q) => summary(service, q)) });
  });

  r.post('/vendors/:id/questionnaires', requireRole('admin', 'procurement'), async (req, res) => {
    const input = parseInput(apiSendSchema, req.body);
    const { questionnaire, link } = await service.send(actorOf(req), { vendorId: id(req.params.id, 'vendor'), contactId: input.contactId, templateId: input.templateId, dueDate: input.dueDate });
    res.status(201).location(`/api/v1/questionnaires/${questionnaire.id}`).json({ ...summary(service, questionnaire), link });
  });

  r.get('/questionnaires/:id', requireRole(), async (req, res) => {
    const q = await service.get(id(req.params.id, 'questionnaire'));
    const { answers, files } = await service.content(q.id);
    res.json({
      ...summary(service, q),
      progress: service.progress(q, answers, files),
      answers: Object.fromEntries(answers),
      evidence: files.map((f) => ({ id: f.id, questionId: f.questionId, fileName: f.fileName, mediaType: f.mediaType, size: f.size, sha256: f.sha256, uploadedAt: f.uploadedAt.toISOString() })),
      questions: q.snapshot,
    });
  });
  return r;
}
