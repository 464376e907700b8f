import type { RequestHandler } from 'express';
import type { ApiTokenService } from '../accounts/api-tokens';
import { UnauthorizedError } from '../errors';

/**
 * The API authenticates only by `Authorization: Bearer <token>`; it never reads the session
 * cookie, so no request a browser is tricked into sending can act through it (no CSRF surface).
 */
export function bearerAuth(tokens: ApiTokenService): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) {
      res.set('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedError('Send an API token as "Authorization: Bearer <token>". Tokens are created on your account page.');
    }
    const user = await tokens.authenticate(m[1]!);
    if (!user) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new UnauthorizedError('This API token is not valid, was revoked, or belongs to a deactivated user.');
    }
    req.user = user;
    next();
  };
}
