import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../context';
import { NotFoundError } from '../errors';
import { requireRole } from '../http/auth';
import { parseInput } from '../http/forms';
import { actorOf } from '../http/request';
import { REVIEW_MARKS } from '../questionnaires/entities';
import { decisionSchema } from './routes';

const reviewers = requireRole('admin', 'reviewer');

const note = z.string().trim().max(2000).nullable().optional();

export const apiMarksSchema = z
  .object({
    marks: z
      .array(z.object({ questionId: z.string().min(1).max(64), mark: z.enum(REVIEW_MARKS).nullable(), comment: note, clarification: note }).strict())
      .min(1, 'Send at least one mark.')
      .max(500),
  })
  .strict();

export const apiClarificationSchema = z
  .object({
    questions: z
      .array(z.object({ questionId: z.string().min(1).max(64), message: z.string().trim().min(1, 'Each question needs a message for the vendor.').max(2000) }).strict())
      .min(1, 'Name at least one question to clarify.')
      .max(200),
  })
  .strict();

export const apiDecisionSchema = decisionSchema.strict();

function id(raw: unknown): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError('No such questionnaire.');
  return Number(s);
}

/** The review in the API: marks, clarification requests and decisions (reviewers and admins). */
export function reviewApi(ctx: Context): Router {
  const r = Router();
  const { reviews } = ctx;

  r.post('/questionnaires/:id/review', reviewers, async (req, res) => {
    const input = parseInput(apiMarksSchema, req.body);
    const changed = await reviews.saveMarks(actorOf(req), id(req.params.id), input.marks.map((m) => ({ questionId: m.questionId, mark: m.mark, comment: m.comment ?? null, clarification: m.clarification ?? null })));
    res.json({ changed });
  });

  r.post('/questionnaires/:id/clarifications', reviewers, async (req, res) => {
    const input = parseInput(apiClarificationSchema, req.body);
    const qid = id(req.params.id);
    await reviews.saveMarks(actorOf(req), qid, input.questions.map((x) => ({ questionId: x.questionId, mark: 'clarify' as const, comment: null, clarification: x.message })));
    const round = await reviews.requestClarification(actorOf(req), qid);
    res.status(201).json({ round: round.round, questions: round.questions, requestedAt: round.requestedAt.toISOString() });
  });

  r.post('/questionnaires/:id/decision', reviewers, async (req, res) => {
    const input = parseInput(apiDecisionSchema, req.body);
    const q = await reviews.decide(actorOf(req), id(req.params.id), input.decision, input.reason);
    res.json({ id: q.id, status: q.status, decisionReason: q.decisionReason, decidedAt: q.decidedAt?.toISOString() ?? null });
  });

  return r;
}
