import session, { type SessionData } from 'express-session';
import type { RequestHandler } from 'express';
import type { DataSource } from 'typeorm';
import { SessionRecord } from '../accounts/entities';
import { type Clock, HOUR, MINUTE } from '../clock';
import { deriveKey, type Config } from '../config';
import { sha256Hex } from '../security/crypto';

/** A signed-in session ends after 30 idle minutes, and 12 hours after sign-in whatever happens. */
export const IDLE_TIMEOUT_MS = 30 * MINUTE;
export const ABSOLUTE_TIMEOUT_MS = 12 * HOUR;
export const SESSION_COOKIE = 'oversight.sid';

declare module 'express-session' {
  interface SessionData {
    userId: number;
    authenticatedAt: number;
    lastSeenAt: number;
    flash: { type: 'success' | 'error' | 'info'; text: string }[];
  }
}

type Callback = (err?: unknown, value?: SessionData | null) => void;

/** A session row's expiry is rewritten only when it would move by more than this. */
export const EXPIRY_WRITE_STEP_MS = MINUTE;
/** Safety bound on the expiries remembered between a request's get() and its touch(). */
const MAX_REMEMBERED = 10_000;

/**
 * express-session store on the portal's own database, so several instances share sessions. Rows are
 * keyed by the SHA-256 of the session id (a stolen database does not yield live cookies) and carry
 * the user id, so deactivating a user can end all of that user's sessions at once.
 *
 * express-session reads the row at the start of every request and, with a rolling expiry, touches
 * it at the end. A touch that would move the expiry by a minute or less is skipped, so a signed-in
 * page usually writes nothing: the store remembers the latest expiry it read or wrote for each
 * session (up to MAX_REMEMBERED sessions, forgotten all at once beyond that), also when several
 * requests of one session run at once. The idle limit is therefore kept to the minute, as the
 * session's own last-seen time is (see sessionTimeouts); never longer than 30 minutes. A row's
 * expiry only moves forward, so what another instance wrote can only make this one write sooner.
 */
export class DatabaseSessionStore extends session.Store {
  /** Row id -> the expiry (ms) read or written last by this process. */
  private readonly known = new Map<string, number>();

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
  ) {
    super();
  }

  private get repo() {
    return this.ds.getRepository(SessionRecord);
  }

  private expiry(): Date {
    return new Date(this.clock.now().getTime() + IDLE_TIMEOUT_MS);
  }

  private remember(id: string, expiresAt: number): void {
    if (this.known.size >= MAX_REMEMBERED && !this.known.has(id)) this.known.clear();
    // Requests of one session end in any order: keep the latest expiry.
    if (!(expiresAt < (this.known.get(id) ?? 0))) this.known.set(id, expiresAt);
  }

  override get(sid: string, cb: Callback): void {
    const id = sha256Hex(sid);
    // Read on every request: plain SQL, without building and mapping an entity query.
    const [sql, params] = this.ds.driver.escapeQueryWithParameters('SELECT "data", "expiresAt" FROM "sessions" WHERE "id" = :id', { id }, {});
    (this.ds.query(sql, params) as Promise<{ data: string; expiresAt: string }[]>)
      .then(([row]) => {
        const expiresAt = row ? Date.parse(row.expiresAt) : NaN;
        if (!row || !(expiresAt > this.clock.now().getTime())) {
          this.known.delete(id);
          return cb(null, null);
        }
        this.remember(id, expiresAt);
        cb(null, JSON.parse(row.data) as SessionData);
      })
      .catch((err: unknown) => cb(err));
  }

  override set(sid: string, sess: SessionData, cb?: (err?: unknown) => void): void {
    const now = this.clock.now();
    const id = sha256Hex(sid);
    const expiresAt = this.expiry();
    this.repo
      .upsert({ id, userId: sess.userId ?? null, data: JSON.stringify(sess), expiresAt, createdAt: now }, { conflictPaths: ['id'] })
      .then(() => {
        this.remember(id, expiresAt.getTime());
        cb?.();
      })
      .catch((err: unknown) => cb?.(err));
  }

  override touch(sid: string, _sess: SessionData, cb?: (err?: unknown) => void): void {
    const id = sha256Hex(sid);
    const expiresAt = this.expiry();
    const known = this.known.get(id);
    // The row's expiry only moves forward; a step of a minute or less is not worth a write.
    if (known !== undefined && expiresAt.getTime() - known <= EXPIRY_WRITE_STEP_MS) {
      cb?.();
      return;
    }
    // Remembered before the write, so that the session's other requests ending meanwhile skip theirs.
    this.remember(id, expiresAt.getTime());
    this.repo
      .update({ id }, { expiresAt })
      .then(() => cb?.())
      .catch((err: unknown) => {
        this.known.delete(id);
        cb?.(err);
      });
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    const id = sha256Hex(sid);
    this.known.delete(id);
    this.repo
      .delete({ id })
      .then(() => cb?.())
      .catch((err: unknown) => cb?.(err));
  }

  /** Deletes expired rows; run by the scheduler. */
  async prune(): Promise<number> {
    const res = await this.repo
      .createQueryBuilder()
      .delete()
      .where('expiresAt <= :now', { now: this.clock.now().toISOString() })
      .execute();
    return res.affected ?? 0;
  }
}

/** The session middleware: HttpOnly, SameSite=Lax, Secure when BASE_URL is https, rolling idle expiry. */
export function sessionMiddleware(config: Config, store: DatabaseSessionStore): RequestHandler {
  return session({
    name: SESSION_COOKIE,
    secret: deriveKey(config, 'session-cookie').toString('hex'),
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    proxy: config.trustProxy !== false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, maxAge: IDLE_TIMEOUT_MS, path: '/' },
  });
}

/** Ends a signed-in session that was idle too long or is older than the absolute limit. */
export function sessionTimeouts(clock: Clock): RequestHandler {
  return (req, _res, next) => {
    const s = req.session;
    if (!s?.userId) return next();
    const now = clock.now().getTime();
    const idle = now - (s.lastSeenAt ?? 0) > IDLE_TIMEOUT_MS;
    const tooOld = now - (s.authenticatedAt ?? 0) > ABSOLUTE_TIMEOUT_MS;
    if (idle || tooOld) {
      s.regenerate((err) => {
        if (err) return next(err);
        req.session.flash = [{ type: 'info', text: 'Your session ended. Please sign in again.' }];
        next();
      });
      return;
    }
    // Writing on every request would rewrite the row each time; once a minute is precise enough.
    if (now - (s.lastSeenAt ?? 0) > MINUTE) s.lastSeenAt = now;
    next();
  };
}

/**
 * Saves the session before a redirect is sent. express-session otherwise writes the response head
 * while the session is still being stored, and a browser that follows the Location at once can load
 * the next page before the store has the flash message or the new sign-in.
 */
export function saveSessionBeforeRedirect(): RequestHandler {
  return (req, res, next) => {
    const redirect = res.redirect.bind(res) as (...args: unknown[]) => void;
    res.redirect = ((...args: unknown[]) => {
      const s = req.session;
      const hasData = s && Object.keys(s).some((k) => k !== 'cookie');
      if (!hasData) return redirect(...args);
      s.save((err) => {
        if (err) return next(err);
        redirect(...args);
      });
    }) as typeof res.redirect;
    next();
  };
}
