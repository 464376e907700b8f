import { Router } from 'express';
import type { Context } from '../context';

const DB_CHECK_TIMEOUT_MS = 2000;

/** GET /healthz: 200 when the database answers, 503 when it does not. For load balancers; no auth. */
export function healthRoutes(ctx: Context): Router {
  const r = Router();
  r.get('/healthz', async (_req, res) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!ctx.ds.isInitialized) throw new Error('database is not connected');
      await Promise.race([
        ctx.ds.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('database check timed out')), DB_CHECK_TIMEOUT_MS);
        }),
      ]);
      res.set('Cache-Control', 'no-store').json({ status: 'ok', db: 'ok' });
    } catch (err) {
      ctx.logger.warn({ err }, 'health check: database unreachable');
      res.status(503).set('Cache-Control', 'no-store').json({ status: 'error', db: 'unreachable' });
    } finally {
      clearTimeout(timer);
    }
  });
  return r;
}
