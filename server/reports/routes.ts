import { Router } from 'express';
import { z } from 'zod';
import { recordAudit } from '../audit/service';
import type { Context } from '../context';
import { sendCsv } from '../csv';
import { NotFoundError } from '../errors';
import { requireUser } from '../http/auth';
import { parseInput } from '../http/forms';
import { actorOf } from '../http/request';
import { writeOversightRecord } from './oversight-record';
import { reportDocument } from './pdf';
import { PORTFOLIO_COLUMNS, portfolioCsvRow, portfolioRows, writePortfolioPdf } from './portfolio';

/** The report's date: a real calendar day as YYYY-MM-DD; blank or absent means today. */
export const portfolioQuerySchema = z.object({
  on: z
    .string({ error: 'on must be a date as YYYY-MM-DD.' })
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || (/^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v)), 'on must be a real date as YYYY-MM-DD.'),
});

function vendorId(raw: unknown): number {
  const s = String(raw);
  if (!/^\d{1,9}$/.test(s)) throw new NotFoundError('No such vendor.');
  return Number(s);
}

/**
 * Reports: the page that offers them, the portfolio report (PDF and CSV) on a chosen date, and the
 * oversight record of one vendor (a ZIP). Every signed-in role may read them, as it may read the
 * vendor pages they are drawn from; each download is audited.
 */
export function reportRoutes(ctx: Context): Router {
  const r = Router();
  // Mounted at the root, so each route names its guard (a router-wide guard would catch every URL).
  const staff = requireUser();
  const today = () => ctx.clock.now().toISOString().slice(0, 10);

  r.get('/reports', staff, (_req, res) => {
    res.render('reports/index', { title: 'Reports', today: today() });
  });

  const portfolioDate = async (req: Parameters<Parameters<typeof r.get>[1]>[0], format: 'pdf' | 'csv') => {
    const on = parseInput(portfolioQuerySchema, req.query).on ?? today();
    await recordAudit(ctx.ds.manager, ctx.clock, actorOf(req), { action: 'report.portfolio', entityType: 'report', entityId: 'portfolio', details: { on, format } });
    return on;
  };

  r.get('/reports/portfolio.csv', staff, async (req, res) => {
    const on = await portfolioDate(req, 'csv');
    const rows = portfolioRows(ctx, on);
    await sendCsv(res, `portfolio-${on}.csv`, PORTFOLIO_COLUMNS, async () => {
      const next = await rows.next();
      return next.done ? [] : next.value.map(portfolioCsvRow);
    }, 1);
  });

  r.get('/reports/portfolio.pdf', staff, async (req, res) => {
    const on = await portfolioDate(req, 'pdf');
    res.set('Content-Type', 'application/pdf');
    res.set('Content-Disposition', `attachment; filename="portfolio-${on}.pdf"`);
    const doc = reportDocument({ title: `Vendor oversight on ${on}`, author: ctx.config.organizationName, subject: 'Portfolio report (201 CMR 17.03(2)(f))', createdAt: ctx.clock.now() });
    const done = new Promise<void>((resolve, reject) => {
      res.once('finish', resolve);
      res.once('close', resolve);
      doc.once('error', reject);
    });
    doc.pipe(res);
    await writePortfolioPdf(ctx, doc, on);
    doc.end();
    await done;
  });

  r.get('/vendors/:id/oversight-record.zip', staff, async (req, res) => {
    const vendor = await ctx.vendors.get(vendorId(req.params.id));
    const slug = vendor.legalName.normalize('NFKD').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 60) || 'vendor';
    res.set('Content-Type', 'application/zip');
    res.set('Content-Disposition', `attachment; filename="oversight-record-${slug}-${today()}.zip"`);
    res.set('X-Content-Type-Options', 'nosniff');
    await writeOversightRecord(ctx, actorOf(req), vendor, res);
  });

  return r;
}
