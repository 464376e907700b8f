import type { RequestHandler } from 'express';
import type { Role } from '../accounts/entities';
import type { AccountService } from '../accounts/service';
import { ForbiddenError, UnauthorizedError } from '../errors';

/** Loads the session's user; a user deactivated meanwhile loses the session here at once. */
export function loadUser(accounts: AccountService): RequestHandler {
  return async (req, res, next) => {
    const id = req.session?.userId;
    if (id !== undefined) {
      const user = await accounts.activeUser(id);
      if (user) {
        req.user = user;
        res.locals.currentUser = accounts.present(user);
      } else {
        await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
      }
    }
    next();
  };
}

/**
 * Allows only signed-in users with one of the roles (any role when none are given). A browser that
 * is not signed in is sent to the sign-in page and brought back afterwards.
 */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, res, next) => {
    if (!req.user) {
      if (req.method === 'GET' && req.accepts(['html', 'json']) === 'html') {
        return res.redirect(303, `/login?returnTo=${encodeURIComponent(req.originalUrl)}`);
      }
      throw new UnauthorizedError();
    }
    if (roles.length > 0 && !roles.includes(req.user.role)) throw new ForbiddenError();
    next();
  };
}

/** Any signed-in user. */
export const requireUser = (): RequestHandler => requireRole();
