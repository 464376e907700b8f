import type { Request } from 'express';
import type { User } from '../accounts/entities';
import type { Actor } from '../audit/service';

declare module 'express-serve-static-core' {
  interface Request {
    /** The signed-in, active user, set by loadUser. */
    user?: User;
  }
}

/** The client address as Express sees it (honouring TRUST_PROXY). */
export function clientIp(req: Request): string | null {
  return req.ip ?? req.socket.remoteAddress ?? null;
}

/** The audit actor for a request: the signed-in user, or anonymous. */
export function actorOf(req: Request): Actor {
  if (req.user) return { type: 'user', id: req.user.id, label: req.user.email, ip: clientIp(req) };
  return { type: 'anonymous', id: null, label: 'anonymous', ip: clientIp(req) };
}

/** Adds a message shown once on the next page. */
export function flash(req: Request, type: 'success' | 'error' | 'info', text: string): void {
  req.session.flash = [...(req.session.flash ?? []), { type, text }];
}

/** A local path to return to after sign-in; anything else (other hosts, schemes) becomes '/'. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  return value.length > 500 ? '/' : value;
}
