import { Router } from 'express';
import type { Context } from '../context';
import { requireUser } from '../http/auth';
import { dashboardMarkup, type RenderView, SECTION_ORDER } from '../reports/dashboard-view';

/** The signed-in landing page: the portfolio at a glance, in the order that suits the user's role. */
export function homeRoutes(ctx: Context): Router {
  const r = Router();
  r.get('/', requireUser(), async (req, res) => {
    const role = req.user!.role;
    // The sections are drawn with the app's locals only, never this request's (see dashboardMarkup).
    const render: RenderView = (view, locals) => new Promise((resolve, reject) => req.app.render(view, locals, (err: Error | null, html?: string) => (err ? reject(err) : resolve(html ?? ''))));
    const { total, headline, sections } = await dashboardMarkup(await ctx.dashboard.figures(), render);
    res.render('home/index', { title: 'Dashboard', total, d: { order: SECTION_ORDER[role], headline }, sections, canAddVendors: ['admin', 'procurement'].includes(role) });
  });
  return r;
}
