import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths that never reach a log line: credentials, cookies and anything that carries a token. */
const REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.secretKey',
];

/** One logger for the whole process, JSON lines on stdout. */
export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } });
}

/**
 * A URL as it may be logged: query values named like secrets, and any path segment that looks like
 * a random token (32+ URL-safe characters), are replaced.
 */
export function redactUrl(url: string): string {
  const [pathPart, query] = url.split('?', 2) as [string, string | undefined];
  const safePath = pathPart
    .split('/')
    // A token may carry a file extension (the calendar feed's <token>.ics).
    .map((seg) => seg.replace(/^[A-Za-z0-9_-]{32,}(?=(\.[A-Za-z0-9]{1,8})?$)/, '[token]'))
    .join('/');
  if (query === undefined) return safePath;
  const safeQuery = query
    .split('&')
    .map((pair) => {
      const [k] = pair.split('=', 1) as [string];
      return /token|password|secret|key|csrf/i.test(k) ? `${k}=[redacted]` : pair;
    })
    .join('&');
  return `${safePath}?${safeQuery}`;
}
