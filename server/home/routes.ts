import { Router } from 'express';
import type { Context } from '../context';
import { requireUser } from '../http/auth';

/** The signed-in landing page. */
export function homeRoutes(_ctx: Context): Router {
  const r = Router();
  r.get('/', requireUser(), (_req, res) => {
    res.render('home/index', { title: 'Dashboard' });
  });
  return r;
}
