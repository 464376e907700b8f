import { Router } from 'express';
import type { Context } from '../context';
import { requireUser } from '../http/auth';
import { dashboardView } from '../reports/dashboard-view';

/** The signed-in landing page: the portfolio at a glance, in the order that suits the user's role. */
export function homeRoutes(ctx: Context): Router {
  const r = Router();
  r.get('/', requireUser(), async (req, res) => {
    const role = req.user!.role;
    const view = dashboardView(await ctx.dashboard.figures(), role);
    res.render('home/index', { title: 'Dashboard', total: view.total, d: view, canAddVendors: ['admin', 'procurement'].includes(role) });
  });
  return r;
}
