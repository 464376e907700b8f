import { Router } from 'express';
import type { Context } from '../context';
import { requireUser } from '../http/auth';
import type { VendorFilter } from '../vendors/service';

/** The headline figures on the landing page, each with the filtered list behind it. */
const FIGURES: { label: string; filter: VendorFilter; query: string; warn?: boolean }[] = [
  { label: 'In-scope vendors', filter: { scope: 'in' }, query: 'scope=in' },
  { label: 'Assessment overdue', filter: { assessment: 'overdue' }, query: 'assessment=overdue', warn: true },
  { label: 'Never assessed', filter: { assessment: 'never' }, query: 'assessment=never', warn: true },
  { label: 'Due within 30 days', filter: { assessment: 'due_soon' }, query: 'assessment=due_soon' },
  { label: 'Critical tier', filter: { tier: 'critical' }, query: 'tier=critical' },
];

/** The signed-in landing page. */
export function homeRoutes(ctx: Context): Router {
  const r = Router();
  r.get('/', requireUser(), async (req, res) => {
    const total = await ctx.vendors.count({});
    const figures = total === 0 ? [] : await Promise.all(FIGURES.map(async (f) => ({ ...f, count: await ctx.vendors.count(f.filter) })));
    res.render('home/index', { title: 'Dashboard', total, figures, canAddVendors: ['admin', 'procurement'].includes(req.user!.role) });
  });
  return r;
}
