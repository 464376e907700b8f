import type { Request, RequestHandler, Response } from 'express';
import { recordAudit } from '../audit/service';
import type { Context } from '../context';
import { actorOf, clientIp } from './request';

/** A per-address allowance: at most `limit` counted requests in `windowMs`. */
export interface RateLimitOptions {
  windowMs: number;
  limit: number;
}

/** The paths whose address is itself the credential (or carries it), and the bearer-token API. */
export const SECRET_LINK_PATHS = ['/q', '/c', '/calendar', '/set-password', '/setup', '/api/v1'];


/**
 * Reports the first refusal of an address in each window: a warning in the log and an entry in the
 * audit log, so an administrator sees guessing without a flood of lines (later refusals of the same
 * window appear only in the request log, as 429s).
 */
export function refusalReporter(ctx: Context, what: string): (req: Request) => Promise<void> {
  const reported = new Map<string, number>();
  return async (req) => {
    try {
      await report(req);
    } catch (err) {
      // A refusal is answered even when the audit log cannot be written.
      ctx.logger.error({ err }, 'could not record a rate-limit refusal');
    }
  };
  async function report(req: Request): Promise<void> {
    const info = (req as Request & { rateLimit?: { key?: string; resetTime?: Date; limit: number } }).rateLimit;
    const key = info?.key ?? String(clientIp(req));
    const reset = info?.resetTime?.getTime() ?? 0;
    if (reported.get(key) === reset) return;
    if (reported.size > 10_000) reported.clear();
    reported.set(key, reset);
    ctx.logger.warn({ ip: clientIp(req), limit: info?.limit, what }, `rate limit reached: ${what}`);
    await ctx.transact((m) => recordAudit(m, ctx.clock, actorOf(req), { action: 'security.rate_limited', entityType: 'address', entityId: String(clientIp(req)), details: { what } }));
  }
}

/**
 * One allowance per address for failed look-ups of secret links and tokens (questionnaire and
 * certification links, calendar feeds, password and setup links, API tokens): only failures count
 * (404 and 410, or 401 on the API), so guessing is slow while a vendor or client using a real link
 * is never stopped. Every surface shares the one count, so guessing on one does not reset another.
 */
export function failedLinkLimiter(ctx: Context, limits: RateLimitOptions): RequestHandler {
  const report = refusalReporter(ctx, 'failed link or token look-ups');
  const isApi = (req: Request) => req.originalUrl.startsWith('/api/');
  const minutes = Math.ceil(limits.windowMs / 60_000);
  const wait = `Wait ${minutes} minute${minutes === 1 ? '' : 's'} and try again.`;
  const refused = `Too many invalid links were opened from your address. ${wait}`;
  const counted = (req: Request, res: Response) => (isApi(req) ? res.statusCode === 401 : res.statusCode === 404 || res.statusCode === 410);
  const failures = new FailureCounter(limits);
  const handler = async (req: Request, res: Response) => {
    await report(req);
    res.status(429);
    const path = req.originalUrl;
    if (isApi(req)) return void res.json({ error: { status: 429, message: `Too many requests with an invalid API token came from your address. ${wait}` } });
    if (path.startsWith('/calendar/')) return void res.type('text/plain').send(refused);
    if (path.startsWith('/q/') || path.startsWith('/c/')) {
      res.set('Cache-Control', 'no-store');
      return res.render('portal/message', {
        title: 'Too many attempts',
        message: refused,
        organizationName: ctx.config.organizationName,
        ...(path.startsWith('/c/') ? { portalTag: 'Written certification' } : {}),
      });
    }
    res.format({
      html: () => res.render('errors/error', { title: 'Too many attempts', status: 429, message: refused, fields: {} }),
      json: () => res.json({ error: { status: 429, message: refused } }),
    });
  };
  return (req, res, next) => {
    const key = String(clientIp(req));
    const refusedUntil = failures.blockedUntil(key);
    if (refusedUntil !== null) {
      (req as Request & { rateLimit?: unknown }).rateLimit = { key, resetTime: new Date(refusedUntil), limit: limits.limit };
      res.set('Retry-After', String(Math.max(1, Math.ceil((refusedUntil - Date.now()) / 1000))));
      handler(req, res).catch(next);
      return;
    }
    // Only a finished failure counts, so any number of vendors working at once from one address
    // (an office behind one NAT) is never refused for requests still in flight.
    res.on('finish', () => {
      if (counted(req, res)) failures.add(key);
    });
    next();
  };
}

/** Failures per address in fixed windows that start at an address's first failure. */
class FailureCounter {
  private readonly entries = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly limits: RateLimitOptions) {}

  /** When the address is over its allowance, the time its window ends; otherwise null. */
  blockedUntil(key: string): number | null {
    const entry = this.current(key);
    return entry && entry.count >= this.limits.limit ? entry.resetAt : null;
  }

  add(key: string): void {
    const entry = this.current(key);
    if (entry) {
      entry.count++;
      return;
    }
    if (this.entries.size >= 10_000) this.prune();
    this.entries.set(key, { count: 1, resetAt: Date.now() + this.limits.windowMs });
  }

  private current(key: string): { count: number; resetAt: number } | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.resetAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private prune(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.resetAt <= now) this.entries.delete(key);
  }
}
