import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../context';
import { requireRole } from '../http/auth';
import { pageParam, parseInput } from '../http/forms';
import { AuditEntry } from './entities';
import { sendCsv } from '../csv';
import { auditExport } from '../reports/exports';
import { AUDIT_COLUMNS, auditCsvRow } from './csv';
import { type AuditFilter, auditBatch, listAudit } from './service';

const PAGE_SIZE = 50;

const day = (label: string) =>
  z
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${label} must be a date (YYYY-MM-DD).`)
    .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), `${label} is not a real date.`)
    .optional()
    .or(z.literal('').transform(() => undefined));

const optionalText = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`).optional();

export const auditFilterSchema = z.object({
  actor: optionalText(200),
  entityType: optionalText(40),
  entityId: optionalText(64),
  action: optionalText(64),
  from: day('From'),
  to: day('To'),
  page: pageParam,
});

/** The service's filter from the parsed query string. */
function toAuditFilter(f: z.infer<typeof auditFilterSchema>): AuditFilter {
  return {
    actor: f.actor || undefined,
    entityType: f.entityType || undefined,
    entityId: f.entityId || undefined,
    action: f.action || undefined,
    from: f.from ? new Date(`${f.from}T00:00:00Z`) : undefined,
    // "to" is inclusive of the whole day.
    to: f.to ? new Date(Date.parse(`${f.to}T00:00:00Z`) + 86_400_000) : undefined,
  };
}

/** The audit log, filtered by actor, record, action and dates; for admins and auditors. */
export function auditRoutes(ctx: Context): Router {
  const r = Router();
  const readers = requireRole('admin', 'viewer');
  r.get('/', readers, async (req, res) => {
    const f = parseInput(auditFilterSchema, req.query);
    const { entries, hasMore } = await listAudit(ctx.ds.getRepository(AuditEntry), toAuditFilter(f), f.page, PAGE_SIZE);
    const filters = { actor: f.actor ?? '', entityType: f.entityType ?? '', entityId: f.entityId ?? '', action: f.action ?? '', from: f.from ?? '', to: f.to ?? '' };
    const query = (page: number) => new URLSearchParams({ ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), page: String(page) }).toString();
    res.render('admin/audit', {
      title: 'Audit log',
      entries,
      filters,
      page: f.page,
      prevHref: f.page > 1 ? `?${query(f.page - 1)}` : null,
      nextHref: hasMore ? `?${query(f.page + 1)}` : null,
      exportHref: `/admin/audit/export.csv?${new URLSearchParams(Object.fromEntries(Object.entries(filters).filter(([, v]) => v))).toString()}`,
    });
  });

  r.get('/export.csv', readers, async (req, res) => {
    const f = parseInput(auditFilterSchema, req.query);
    const filter = toAuditFilter(f);
    const repo = ctx.ds.getRepository(AuditEntry);
    // Recorded before the walk starts, so the export lists its own entry when the filters match it.
    await auditExport(ctx, req, 'audit_log', { ...f, page: undefined });
    let after: { at: Date; id: number } | null = null;
    await sendCsv(res, `audit-log-${ctx.clock.now().toISOString().slice(0, 10)}.csv`, AUDIT_COLUMNS, async (_n, batch) => {
      const rows = await auditBatch(repo, filter, after, batch);
      const last = rows[rows.length - 1];
      if (last) after = { at: last.at, id: last.id };
      return rows.map(auditCsvRow);
    }, 1000);
  });
  return r;
}
