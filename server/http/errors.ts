import crypto from 'node:crypto';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HttpError, NotFoundError } from '../errors';
import type { Logger } from '../logger';

/** The catch-all after every route. */
export const notFound: RequestHandler = () => {
  throw new NotFoundError('There is no page at this address.');
};

interface ErrorWithStatus {
  status?: number;
  statusCode?: number;
  type?: string;
  code?: string;
  expose?: boolean;
  message?: string;
}

/**
 * The one error handler: an HTML page or a JSON body chosen by Accept. Known errors keep their
 * status and message; anything unknown becomes a 500 that shows only an id, and is logged with it.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    let status = 500;
    let message = 'Something went wrong on our side. The error has been logged.';
    let fields: Record<string, string> = {};
    const e = (err ?? {}) as ErrorWithStatus;
    if (err instanceof HttpError) {
      status = err.status;
      message = err.message;
      fields = err.fields;
    } else if (e.type === 'entity.too.large') {
      status = 413;
      message = 'The request is too large.';
    } else if ((err as Error | undefined)?.name === 'MulterError') {
      status = e.code === 'LIMIT_FILE_SIZE' ? 413 : 400;
      message =
        status === 413
          ? 'The file is too large. Go back with your browser (it keeps what you typed), choose a smaller file, and save again.'
          : `The upload was refused: ${e.message ?? 'malformed form'}.`;
    } else if (isMultipartParseError(err)) {
      status = 400;
      message = 'The upload was refused: the form could not be read (a malformed multipart body or file name).';
    } else if (e.code === 'EBADCSRFTOKEN') {
      status = 403;
      message = e.message ?? message;
    } else if (typeof (e.status ?? e.statusCode) === 'number' && (e.status ?? e.statusCode)! < 500 && e.expose !== false) {
      // body-parser and other http-errors: malformed bodies and the like.
      status = (e.status ?? e.statusCode)!;
      message = status === 400 ? 'The request could not be read.' : (e.message ?? 'The request was refused.');
    }
    let errorId: string | undefined;
    if (status >= 500) {
      errorId = crypto.randomBytes(6).toString('hex');
      logger.error({ err, errorId, method: req.method }, 'unhandled error');
      message = `${message} Reference: ${errorId}.`;
    } else if (status !== 404) {
      logger.info({ status, message, method: req.method }, 'request refused');
    }
    res.status(status);
    res.format({
      // An error page never takes the flash messages meant for the next real page (a browser's
      // stray /favicon.ico request would otherwise swallow them).
      html: () => res.render('errors/error', { title: titleFor(status), status, message, fields, takeFlash: () => [] }),
      json: () => res.json({ error: { status, message, ...(Object.keys(fields).length ? { fields } : {}) } }),
      default: () => res.type('text/plain').send(message),
    });
  };
}

/**
 * busboy, under multer, reports a malformed multipart body (a NUL in a part header, a body cut
 * short) as a plain Error; it is the client's fault, so it is a 400, not a 500.
 */
function isMultipartParseError(err: unknown): boolean {
  if (!(err instanceof Error) || !/[\\/]busboy[\\/]/.test(err.stack ?? '')) return false;
  return /^(Malformed part header|Unexpected end of (form|file)|Part terminated early|Multipart: Boundary not found|Malformed urlencoded form)/.test(err.message);
}

function titleFor(status: number): string {
  switch (status) {
    case 400: return 'Please check your input';
    case 401: return 'Please sign in';
    case 403: return 'Not allowed';
    case 404: return 'Not found';
    case 409: return 'Conflict';
    case 410: return 'Link no longer valid';
    case 413: return 'Too large';
    case 429: return 'Too many attempts';
    default: return status >= 500 ? 'Something went wrong' : 'Request refused';
  }
}
