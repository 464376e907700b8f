import type { Request, RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';

/**
 * Synchronizer-token CSRF protection for every state-changing request: the token lives in the
 * session and comes back in the `_csrf` form field (or the X-CSRF-Token header).
 */
const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req: Request) => {
    const body = req.body as Record<string, unknown> | undefined;
    const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined;
    const header = req.headers['x-csrf-token'];
    // A multipart body is parsed only after this check (by the route's upload handler), so upload
    // forms carry the token in their action URL instead; a forged upload is refused before any parsing.
    const fromQuery = req.is('multipart/form-data') && typeof req.query._csrf === 'string' ? req.query._csrf : undefined;
    return fromBody ?? (typeof header === 'string' ? header : fromQuery);
  },
  errorConfig: {
    statusCode: 403,
    message: 'This form has expired or did not come from Oversight. Go back, reload the page and submit it again.',
    code: 'EBADCSRFTOKEN',
  },
});

export const csrfProtection: RequestHandler = csrfSynchronisedProtection;

/**
 * Makes `csrf()` available to views. The token is created only when a page has a form, so merely
 * visiting a page leaves no session behind.
 */
export const csrfLocals: RequestHandler = (req, res, next) => {
  res.locals.csrf = () => generateToken(req);
  next();
};
