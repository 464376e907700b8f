import crypto from 'node:crypto';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, Router } from 'express';
import multer from 'multer';
import { deriveKey } from '../config';
import type { Context } from '../context';
import { ConflictError, ForbiddenError, HttpError, NotFoundError, ValidationError } from '../errors';
import { clientIp } from '../http/request';
import { parsedWithoutNul } from '../http/text';
import { cappedMemoryStorage, type CappedFile } from '../http/upload';
import { safeEqual } from '../security/crypto';
import { displayAnswer, isVisible } from './answers';
import type { EvidenceFile, Questionnaire, QuestionnaireLink } from './entities';
import { ACCEPTED_DESCRIPTION } from './evidence';
import { countFiles, type QuestionnaireContent, type UploadedFile } from './service';
import type { TemplateSection } from './template';

declare module 'express-serve-static-core' {
  interface Request {
    /** The link's questionnaire; with its answers and files on the pages that show them (resolvePage), else content is null. */
    portal?: { questionnaire: Questionnaire; link: QuestionnaireLink; vendorName: string; content: QuestionnaireContent | null };
  }
}

/**
 * The vendor portal under /q/<token>: no account and no session. The link is the credential; forms
 * carry a token derived from the link (HMAC), so no other site can post to it and an idle vendor
 * never loses a form to an expired session.
 */
export function portalRoutes(ctx: Context): Router {
  const r = Router();
  const { questionnaires: service, config } = ctx;
  const csrfKey = deriveKey(config, 'portal-form');
  const formToken = (link: QuestionnaireLink) => crypto.createHmac('sha256', csrfKey).update(`link:${link.id}`).digest('base64url');

  // Guessed links are slowed by the app's failed-link limiter (server/http/rate-limit.ts).

  const resolver =
    (content: boolean): RequestHandler =>
    async (req, res, next) => {
      req.portal = await service.resolveLink(String(req.params.token), { content });
      res.locals.organizationName = config.organizationName;
      res.locals.base = `/q/${String(req.params.token)}`;
      res.locals.formToken = formToken(req.portal.link);
      next();
    };
  const resolve = resolver(false);
  // A page showing the answers reads them with the link, in one query.
  const resolvePage = resolver(true);

  const checkForm: RequestHandler = (req, _res, next) => {
    const sent = typeof req.query._csrf === 'string' ? req.query._csrf : typeof (req.body as Record<string, unknown> | undefined)?._csrf === 'string' ? String((req.body as Record<string, unknown>)._csrf) : '';
    if (!req.portal || !safeEqual(sent, formToken(req.portal.link))) throw new ForbiddenError('This form did not come from the questionnaire page. Open the link from your email again.');
    next();
  };

  const multipart = multer({
    // A file over the limit is dropped and named beside its question, so the answers typed on the
    // page come back; only a file ten times the limit (a hostile one) stops the form with a 413.
    storage: cappedMemoryStorage(config.evidence.maxFileBytes),
    limits: { fileSize: config.evidence.maxFileBytes * 10, files: 5, fields: 1000, parts: 1100, fieldSize: 100_000, headerPairs: 100 },
  }).any();
  // Text fields of the multipart form meet the same rule as every other form.
  const upload = parsedWithoutNul(multipart);

  const actor = (req: Request) => service.vendorActor(req.portal!.questionnaire, req.portal!.link, clientIp(req));

  /** What a page shows of the answers: those read with the link, or (after a change) read again. */
  const view = async (q: Questionnaire, content: QuestionnaireContent | null = null) => {
    const { answers, files } = content ?? (await service.content(q.id));
    return { answers, files, progress: service.progress(q, answers, files), filesByQuestion: groupFiles(files) };
  };

  const sectionOf = (q: Questionnaire, id: string): { section: TemplateSection; index: number } => {
    const index = q.snapshot.sections.findIndex((s) => s.id === id);
    if (index < 0) throw new NotFoundError('This questionnaire has no such section.');
    return { section: q.snapshot.sections[index]!, index };
  };

  const renderSection = async (res: Response, q: Questionnaire, section: TemplateSection, index: number, extra: { errors?: Record<string, string>; typed?: Record<string, unknown>; saved?: boolean; content?: QuestionnaireContent | null } = {}) => {
    const v = await view(q, extra.content);
    const today = service.today();
    const sectionIds = new Set(section.questions.map((x) => x.id));
    const round = await service.openRound(q);
    const messages = new Map(round?.questions.map((x) => [x.questionId, x.message]) ?? []);
    const reopened = round ? service.reopenedQuestions(q, round) : null;
    res.render('portal/section', {
      title: section.title,
      q,
      section,
      index,
      sectionCount: q.snapshot.sections.length,
      nextSection: q.snapshot.sections[index + 1] ?? null,
      prevSection: index > 0 ? q.snapshot.sections[index - 1] : null,
      questions: section.questions.map((question) => ({
        question,
        visible: isVisible(question, v.answers, today),
        // Conditions on a question of this page are also evaluated in the browser by portal.js.
        clientCondition: question.show_if && sectionIds.has(question.show_if.question) ? JSON.stringify(question.show_if) : null,
        value: extra.typed && `a__${question.id}` in extra.typed ? extra.typed[`a__${question.id}`] : v.answers.get(question.id),
        files: v.filesByQuestion.get(question.id) ?? [],
        error: extra.errors?.[question.id] ?? null,
        // When returned for clarification, only the reopened questions can change.
        locked: reopened !== null && !reopened.has(question.id),
        clarification: messages.get(question.id) ?? null,
        display: displayAnswer(question, v.answers.get(question.id)),
      })),
      errors: extra.errors ?? {},
      saved: extra.saved ?? false,
      progress: v.progress,
      accepted: ACCEPTED_DESCRIPTION,
      maxMb: Math.round(config.evidence.maxFileBytes / 1024 / 1024),
    });
  };

  r.get('/:token', resolvePage, async (req, res) => {
    const { questionnaire: q, content } = req.portal!;
    await service.markOpened(q, actor(req));
    const v = await view(q, content);
    if (!service.editable(q)) {
      return res.render('portal/readonly', { title: q.title, q, sections: answeredSections(q, v.answers, v.filesByQuestion, service.today()), statusText: statusText(q) });
    }
    const round = await service.openRound(q);
    const located = round ? new Map(q.snapshot.sections.flatMap((s) => s.questions.map((x) => [x.id, { sectionId: s.id, text: x.text }] as const))) : null;
    const clarifications = round && located ? round.questions.map((x) => ({ ...x, ...located.get(x.questionId)! })) : [];
    res.render('portal/welcome', { title: q.title, q, vendorName: req.portal!.vendorName, progress: v.progress, questionCount: v.progress.total, clarifications });
  });

  r.get('/:token/s/:sectionId', resolvePage, async (req, res) => {
    const { questionnaire: q, content } = req.portal!;
    if (!service.editable(q)) return res.redirect(303, res.locals.base as string);
    const { section, index } = sectionOf(q, String(req.params.sectionId));
    await renderSection(res, q, section, index, { saved: req.query.saved === '1', content });
  });

  r.post('/:token/s/:sectionId', resolve, checkForm, upload, async (req, res) => {
    const q = req.portal!.questionnaire;
    const { section, index } = sectionOf(q, String(req.params.sectionId));
    const body = (req.body ?? {}) as Record<string, unknown>;
    const sent = (req.files as (Express.Multer.File & CappedFile)[] | undefined) ?? [];
    const tooLarge = Object.fromEntries(sent.filter((f) => f.tooLarge).map((f) => [f.fieldname.replace(/^file__/, ''), `The file is larger than ${Math.round(config.evidence.maxFileBytes / 1024 / 1024)} MB. Choose a smaller file; your answers on this page are kept below.`]));
    if (Object.keys(tooLarge).length > 0) {
      res.status(413);
      return renderSection(res, q, section, index, { errors: tooLarge, typed: body });
    }
    const uploads: UploadedFile[] = sent
      .filter((f) => f.size > 0 || f.originalname)
      .map((f) => ({ questionId: f.fieldname.replace(/^file__/, ''), originalName: f.originalname, buffer: f.buffer }));
    const action = typeof body.action === 'string' ? body.action : 'save';
    const removeMatch = /^remove:(\d{1,9})$/.exec(action);
    const { errors } = await service.saveSection(actor(req), q, section, body, uploads, removeMatch ? Number(removeMatch[1]) : null);
    if (Object.keys(errors).length > 0) {
      res.status(400);
      return renderSection(res, await service.get(q.id), section, index, { errors, typed: body });
    }
    const base = res.locals.base as string;
    if (action === 'next') {
      const next = q.snapshot.sections[index + 1];
      return res.redirect(303, next ? `${base}/s/${next.id}` : `${base}/review`);
    }
    if (action === 'previous' && index > 0) return res.redirect(303, `${base}/s/${q.snapshot.sections[index - 1]!.id}`);
    if (action === 'review') return res.redirect(303, `${base}/review`);
    res.redirect(303, `${base}/s/${section.id}?saved=1${removeMatch ? '#files' : ''}`);
  });

  const renderReview = async (res: Response, q: Questionnaire, errorMessage?: string, content: QuestionnaireContent | null = null) => {
    const v = await view(q, content);
    const missing = service.missingRequired(q, v.answers, v.files);
    res.render('portal/review', { title: `Check and submit: ${q.title}`, q, sections: answeredSections(q, v.answers, v.filesByQuestion, service.today()), missing, progress: v.progress, errorMessage: errorMessage ?? null });
  };

  r.get('/:token/review', resolvePage, async (req, res) => {
    const { questionnaire: q, content } = req.portal!;
    if (!service.editable(q)) return res.redirect(303, res.locals.base as string);
    await renderReview(res, q, undefined, content);
  });

  r.post('/:token/submit', resolve, smallForm, checkForm, async (req, res) => {
    const q = req.portal!.questionnaire;
    try {
      await service.submit(actor(req), q);
    } catch (err) {
      if (err instanceof ValidationError) {
        res.status(400);
        return renderReview(res, q, err.message);
      }
      // Submitted by the same vendor a moment ago (a double click, or a retry after a lost answer):
      // the thank-you page, not an error.
      if (err instanceof ConflictError && (await service.get(q.id)).status === 'submitted') return res.redirect(303, `${res.locals.base as string}/done`);
      throw err;
    }
    res.redirect(303, `${res.locals.base as string}/done`);
  });

  r.get('/:token/done', resolve, (req, res) => {
    const q = req.portal!.questionnaire;
    if (service.editable(q)) return res.redirect(303, res.locals.base as string);
    res.render('portal/done', { title: 'Thank you', q });
  });

  // Errors on these pages use the portal's own plain pages: no staff navigation, no vendor names.
  r.use(((err, _req, res, next) => {
    if (!(err instanceof HttpError) || ![403, 404, 409, 410].includes(err.status)) return next(err);
    res.status(err.status).render('portal/message', { title: err.status === 410 ? 'This link no longer works' : err.status === 404 ? 'Link not found' : 'Not possible', message: err.message, organizationName: config.organizationName });
  }) as ErrorRequestHandler);
  return r;
}

/** The submit form is a plain form; this router sits before the app's body parsers. */
const smallForm = parsedWithoutNul(express.urlencoded({ extended: false, limit: '20kb' }));

function groupFiles(files: EvidenceFile[]): Map<string, EvidenceFile[]> {
  const by = new Map<string, EvidenceFile[]>();
  for (const f of files) by.set(f.questionId, [...(by.get(f.questionId) ?? []), f]);
  return by;
}

/** The answers as a read-only document: visible questions only, with labels. */
export function answeredSections(q: Questionnaire, answers: Map<string, unknown>, files: Map<string, EvidenceFile[]>, today: string) {
  const counts = countFiles([...files.values()].flat());
  return q.snapshot.sections.map((s) => ({
    id: s.id,
    title: s.title,
    questions: s.questions
      .filter((x) => isVisible(x, answers as never, today))
      .map((x) => ({ question: x, answer: displayAnswer(x, answers.get(x.id) as never), files: files.get(x.id) ?? [], fileCount: counts.get(x.id) ?? 0 })),
  }));
}

function statusText(q: Questionnaire): string {
  switch (q.status) {
    case 'submitted':
      return `Submitted on ${q.submittedAt?.toISOString().slice(0, 10)}. The answers are locked.`;
    case 'approved':
      return 'The review is complete.';
    case 'rejected':
      return 'The review is complete.';
    case 'revoked':
      return 'This questionnaire was withdrawn.';
    default:
      return '';
  }
}
