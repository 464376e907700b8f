import type { RequestHandler } from 'express';
import type { Logger } from '../logger';
import { redactUrl } from '../logger';

/** Requests not worth a line each: the health check and static assets. */
const IGNORED = (url: string) => url === '/healthz' || url.startsWith('/assets/');

/**
 * One JSON line per finished request: method, URL (tokens and secret query values masked, see
 * redactUrl), client address, status and time taken; at error level for a 5xx, at warn when the
 * client went away first. The line is built only when it is written: a child logger per request,
 * as pino-http made, serialized its bindings on every request whether or not anything was written,
 * and cost more than a simple page.
 */
export function requestLog(logger: Logger): RequestHandler {
  if (!logger.isLevelEnabled('warn')) return (_req, _res, next) => next();
  const infoEnabled = logger.isLevelEnabled('info');
  return (req, res, next) => {
    const url = req.originalUrl;
    if (IGNORED(url)) return next();
    const started = performance.now();
    const done = () => {
      res.removeListener('finish', done);
      res.removeListener('close', done);
      const aborted = !res.writableFinished;
      const level = res.statusCode >= 500 ? 'error' : aborted ? 'warn' : 'info';
      if (level === 'info' && !infoEnabled) return;
      logger[level](
        { req: { method: req.method, url: redactUrl(url), remoteAddress: req.socket.remoteAddress }, res: { statusCode: res.statusCode }, responseTime: Math.round(performance.now() - started) },
        aborted ? 'request aborted' : res.statusCode >= 500 ? 'request errored' : 'request completed',
      );
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
