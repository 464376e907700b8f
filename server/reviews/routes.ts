import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../context';
import { HttpError, NotFoundError } from '../errors';
import { Finding } from '../findings/entities';
import { requireRole } from '../http/auth';
import { parseInput, text } from '../http/forms';
import { actorOf, flash } from '../http/request';
import { allQuestions, displayAnswer, isVisible } from '../questionnaires/answers';
import { REVIEW_MARKS, type ReviewMark } from '../questionnaires/entities';
import { countFiles, STATUS_LABELS } from '../questionnaires/service';
import type { MarkInput } from './service';

const reviewers = requireRole('admin', 'reviewer');

export const decisionSchema = z.object({
  decision: z.enum(['approved', 'rejected'], { error: 'Decision must be approved or rejected.' }),
  reason: text('Reason', 2000),
});

/** Reads the marks form: mark__<id>, comment__<id>, clarification__<id> for every question. */
export function marksFromForm(questionIds: string[], body: Record<string, unknown>): MarkInput[] {
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 2000) : null);
  return questionIds
    .filter((id) => `mark__${id}` in body || `comment__${id}` in body || `clarification__${id}` in body)
    .map((id) => {
      const mark = str(body[`mark__${id}`]);
      if (mark !== null && !(REVIEW_MARKS as readonly string[]).includes(mark)) throw new HttpError(400, `Unknown mark "${mark}".`, { [id]: 'Choose accepted, needs clarification or finding.' });
      return { questionId: id, mark: mark as ReviewMark | null, comment: str(body[`comment__${id}`]), clarification: str(body[`clarification__${id}`]) };
    });
}

function id(raw: unknown): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError('No such questionnaire.');
  return Number(s);
}

/** The reviewer's workspace: answers beside evidence and history, marks, clarification and decision. */
export function reviewRoutes(ctx: Context): Router {
  const r = Router();
  const { questionnaires, reviews } = ctx;

  const render = async (res: import('express').Response, qid: number, extra: { errors?: Record<string, string>; message?: string } = {}) => {
    const q = await questionnaires.get(qid);
    const [{ answers, files }, marks, history, rounds, vendor, findings] = await Promise.all([
      questionnaires.content(q.id),
      reviews.marks(q.id),
      questionnaires.history(q.id),
      reviews.rounds(q.id),
      ctx.vendors.get(q.vendorId),
      ctx.ds.getRepository(Finding).find({ where: { questionnaireId: q.id }, order: { id: 'ASC' } }),
    ]);
    const today = questionnaires.today();
    const counts = countFiles(files);
    const reopened = new Set(rounds.flatMap((x) => x.questions.map((y) => y.questionId)));
    res.render('reviews/workspace', {
      title: `Review: ${q.title}`,
      q,
      vendor,
      statusLabel: STATUS_LABELS[questionnaires.displayStatus(q)],
      reviewable: q.status === 'submitted',
      rounds,
      openFindings: findings.filter((f) => f.status === 'open' || f.status === 'remediation_planned'),
      sections: q.snapshot.sections.map((s) => ({
        ...s,
        items: s.questions
          .filter((x) => isVisible(x, answers, today))
          .map((x) => ({
            question: x,
            answer: x.type === 'file' ? `${counts.get(x.id) ?? 0} file(s)` : displayAnswer(x, answers.get(x.id)) || 'Not answered',
            files: files.filter((f) => f.questionId === x.id),
            history: history.filter((h) => h.questionId === x.id).map((h) => ({ ...h, previous: displayAnswer(x, h.previousValue), next: displayAnswer(x, h.newValue) })),
            findings: findings.filter((f) => f.questionId === x.id),
            review: marks.get(x.id) ?? null,
            reopened: reopened.has(x.id),
          })),
      })),
      errors: extra.errors ?? {},
      message: extra.message ?? null,
    });
  };

  r.get('/questionnaires/:id/review', reviewers, async (req, res) => {
    await render(res, id(req.params.id));
  });

  r.post('/questionnaires/:id/review', reviewers, async (req, res) => {
    const qid = id(req.params.id);
    const q = await questionnaires.get(qid);
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      const marks = marksFromForm(allQuestions(q.snapshot).map((x) => x.q.id), body);
      await reviews.saveMarks(actorOf(req), qid, marks);
      if (body.action === 'clarify') {
        const round = await reviews.requestClarification(actorOf(req), qid);
        flash(req, 'success', `Returned to the vendor with ${round.questions.length} question${round.questions.length === 1 ? '' : 's'} to clarify (round ${round.round}).`);
        return res.redirect(303, `/questionnaires/${qid}`);
      }
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      res.status(err.status);
      return render(res, qid, { errors: err.fields, message: err.message });
    }
    flash(req, 'success', 'Review saved.');
    res.redirect(303, `/questionnaires/${qid}/review`);
  });

  r.post('/questionnaires/:id/decision', reviewers, async (req, res) => {
    const qid = id(req.params.id);
    try {
      const input = parseInput(decisionSchema, req.body);
      await reviews.decide(actorOf(req), qid, input.decision, input.reason);
      flash(req, 'success', input.decision === 'approved' ? 'Approved. The vendor\'s last assessment date and next reassessment date are updated.' : 'Rejected. The vendor cannot become active unless an administrator overrides.');
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      res.status(err.status);
      return render(res, qid, { errors: err.fields, message: err.message });
    }
    res.redirect(303, `/questionnaires/${qid}`);
  });

  return r;
}
