import crypto from 'node:crypto';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, Router } from 'express';
import multer from 'multer';
import { deriveKey } from '../config';
import type { Context } from '../context';
import { ForbiddenError, HttpError, NotFoundError, ValidationError } from '../errors';
import { parseInput } from '../http/forms';
import { clientIp } from '../http/request';
import { parsedWithoutNul } from '../http/text';
import { cappedMemoryStorage, type CappedFile } from '../http/upload';
import { safeEqual } from '../security/crypto';
import type { Certification, CertificationLink } from './entities';
import { certificatePdf } from './pdf';
import { declineSchema, signSchema, uploadSchema } from './schema';
import { certificationText, PURPOSE_LABELS } from './template';

declare module 'express-serve-static-core' {
  interface Request {
    certificationLink?: { certification: Certification; link: CertificationLink };
  }
}

/** Which form on the page a failure belongs to. */
type Section = 'sign' | 'upload' | 'decline';

/**
 * The vendor's side of a certification under /c/<token>: no account and no session. The link is the
 * credential; forms carry a token derived from the link (HMAC) instead of a session CSRF token.
 */
export function certificationPortalRoutes(ctx: Context): Router {
  const r = Router();
  const { certifications: service, config } = ctx;
  const csrfKey = deriveKey(config, 'certification-form');
  const portalFoot = `${config.organizationName} keeps what you sign or upload here, with the time, your address and a fingerprint (SHA-256) of the text. Uploaded files are stored encrypted.`;
  const formToken = (link: CertificationLink) => crypto.createHmac('sha256', csrfKey).update(`certification-link:${link.id}`).digest('base64url');

  // Guessed links are slowed by the app's failed-link limiter (server/http/rate-limit.ts).

  const resolve: RequestHandler = async (req, res, next) => {
    req.certificationLink = await service.resolveLink(String(req.params.token));
    res.locals.organizationName = config.organizationName;
    res.locals.portalTag = 'Written certification';
    res.locals.portalFoot = portalFoot;
    res.locals.base = `/c/${String(req.params.token)}`;
    res.locals.formToken = formToken(req.certificationLink.link);
    next();
  };

  const checkForm: RequestHandler = (req, _res, next) => {
    const body = req.body as Record<string, unknown> | undefined;
    const sent = typeof req.query._csrf === 'string' ? req.query._csrf : typeof body?._csrf === 'string' ? body._csrf : '';
    if (!req.certificationLink || !safeEqual(sent, formToken(req.certificationLink.link))) throw new ForbiddenError('This form did not come from the certification page. Open the link from your email again.');
    next();
  };

  const multipart = multer({
    // A file over the limit is dropped and named beside the field, so the signer's details typed on
    // the form come back; only a file ten times the limit (a hostile one) stops the form with a 413.
    storage: cappedMemoryStorage(config.evidence.maxFileBytes),
    limits: { fileSize: config.evidence.maxFileBytes * 10, files: 1, fields: 10, parts: 12, fieldSize: 10_000, headerPairs: 100 },
  }).single('file');
  // Text fields of the multipart form meet the same rule as every other form.
  const upload = parsedWithoutNul(multipart);

  const actor = (req: Request) => service.vendorActor(req.certificationLink!.certification, req.certificationLink!.link, clientIp(req));
  const from = (req: Request) => ({ ip: clientIp(req), userAgent: req.get('user-agent') ?? null });

  const render = async (res: Response, c: Certification, extra: { section?: Section; errors?: Record<string, string>; values?: Record<string, unknown>; done?: string } = {}) => {
    const vendorName = (await ctx.vendors.get(c.vendorId)).legalName;
    res.render('portal/certification', {
      title: c.title,
      c,
      vendorName,
      purposeLabel: PURPOSE_LABELS[c.purpose],
      text: certificationText(c.title, c.statement),
      status: service.displayStatus(c),
      section: extra.section ?? null,
      errors: extra.errors ?? {},
      values: extra.values ?? { signerCompany: vendorName },
      done: extra.done ?? null,
      maxMb: Math.round(config.evidence.maxFileBytes / 1024 / 1024),
    });
  };

  /** Runs one of the page's forms; a refusal that names fields re-renders the page with what was typed. */
  const pageForm = async (req: Request, res: Response, section: Section, action: () => Promise<void>) => {
    try {
      await action();
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const values = { ...((req.body ?? {}) as Record<string, unknown>) };
      delete values._csrf;
      if (res.statusCode < 400) res.status(400);
      await render(res, req.certificationLink!.certification, { section, errors: err.fields, values });
    }
  };

  r.get('/:token', resolve, async (req, res) => {
    const done = typeof req.query.done === 'string' && ['signed', 'uploaded', 'declined'].includes(req.query.done) ? req.query.done : undefined;
    await render(res, req.certificationLink!.certification, { done });
  });

  r.post('/:token/sign', resolve, smallForm, checkForm, async (req, res) => {
    await pageForm(req, res, 'sign', async () => {
      const input = parseInput(signSchema, req.body);
      const { certification: c, link } = req.certificationLink!;
      await service.sign(actor(req), c.id, link, input, from(req));
      res.redirect(303, `${res.locals.base as string}?done=signed`);
    });
  });

  r.post('/:token/upload', resolve, checkForm, upload, async (req, res) => {
    await pageForm(req, res, 'upload', async () => {
      const file = req.file as (Express.Multer.File & CappedFile) | undefined;
      if (file?.tooLarge) {
        res.status(413);
        throw new ValidationError({ file: `The file is larger than ${Math.round(config.evidence.maxFileBytes / 1024 / 1024)} MB. Choose a smaller file; your details are kept below.` });
      }
      const input = parseInput(uploadSchema, req.body);
      if (!req.file) throw new ValidationError({ file: 'Choose the signed PDF to upload.' });
      const { certification: c, link } = req.certificationLink!;
      await service.upload(actor(req), c.id, link, input, { originalName: req.file.originalname, buffer: req.file.buffer }, from(req));
      res.redirect(303, `${res.locals.base as string}?done=uploaded`);
    });
  });

  r.post('/:token/decline', resolve, smallForm, checkForm, async (req, res) => {
    await pageForm(req, res, 'decline', async () => {
      const input = parseInput(declineSchema, req.body);
      const { certification: c, link } = req.certificationLink!;
      await service.decline(actor(req), c.id, link, input, from(req));
      res.redirect(303, `${res.locals.base as string}?done=declined`);
    });
  });

  /** The text as a PDF: unsigned while requested (to sign on paper), the signed certificate once signed. */
  r.get('/:token/certificate.pdf', resolve, async (req, res) => {
    const c = req.certificationLink!.certification;
    if (c.status !== 'requested' && c.status !== 'signed') throw new NotFoundError('There is no document to download at this stage.');
    const vendorName = (await ctx.vendors.get(c.vendorId)).legalName;
    const pdf = await certificatePdf({
      organizationName: config.organizationName,
      vendorName,
      title: c.title,
      statement: c.statement,
      templateId: c.templateId,
      templateVersion: c.templateVersion,
      textSha256: c.textSha256,
      signature:
        c.status === 'signed' && c.signedAt
          ? { method: c.method ?? 'link', signerName: c.signerName ?? '', signerTitle: c.signerTitle ?? '', signerCompany: c.signerCompany ?? '', typedSignature: c.signature, signedAt: c.signedAt, ip: c.signedIp, userAgent: c.signedUserAgent, linkId: c.signedLinkId, file: c.fileSha256 ? { name: c.fileName ?? '', sha256: c.fileSha256 } : null, confirmedBy: null, confirmedAt: c.confirmedAt, expiresOn: c.expiresOn, sealSha256: c.sealSha256 }
          : null,
      verified: null,
      generatedAt: ctx.clock.now(),
    });
    res.set('Content-Type', 'application/pdf');
    res.set('Content-Disposition', `attachment; filename="${c.status === 'signed' ? 'signed-' : ''}${c.templateId}.pdf"`);
    res.send(pdf);
  });

  // Errors on these pages use the portal's own plain pages: no staff navigation, no vendor names.
  r.use(((err, _req, res, next) => {
    if (!(err instanceof HttpError) || ![403, 404, 409, 410].includes(err.status)) return next(err);
    res.status(err.status).render('portal/message', {
      title: err.status === 410 ? 'This link no longer works' : err.status === 404 ? 'Link not found' : 'Not possible',
      message: err.message,
      organizationName: config.organizationName,
      portalTag: 'Written certification',
      portalFoot,
    });
  }) as ErrorRequestHandler);
  return r;
}

/** The plain forms; this router sits before the app's body parsers. */
const smallForm = parsedWithoutNul(express.urlencoded({ extended: false, limit: '20kb' }));
