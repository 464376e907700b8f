import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../context';
import { requireRole } from '../http/auth';
import { pageParam, parseInput } from '../http/forms';
import { AuditEntry } from './entities';
import { listAudit } from './service';

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

/** The audit log, filtered by actor, record, action and dates; for admins and auditors. */
export function auditRoutes(ctx: Context): Router {
  const r = Router();
  r.get('/', requireRole('admin', 'viewer'), async (req, res) => {
    const f = parseInput(auditFilterSchema, req.query);
    const { entries, hasMore } = await listAudit(
      ctx.ds.getRepository(AuditEntry),
      {
        actor: f.actor || undefined,
        entityType: f.entityType || undefined,
        entityId: f.entityId || undefined,
        action: f.action || undefined,
        from: f.from ? new Date(`${f.from}T00:00:00Z`) : undefined,
        // "to" is inclusive of the whole day.
        to: f.to ? new Date(Date.parse(`${f.to}T00:00:00Z`) + 86_400_000) : undefined,
      },
      f.page,
      PAGE_SIZE,
    );
    const filters = { actor: f.actor ?? '', entityType: f.entityType ?? '', entityId: f.entityId ?? '', action: f.action ?? '', from: f.from ?? '', to: f.to ?? '' };
    const query = (page: number) => new URLSearchParams({ ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), page: String(page) }).toString();
    res.render('admin/audit', {
      title: 'Audit log',
      entries,
      filters,
      page: f.page,
      prevHref: f.page > 1 ? `?${query(f.page - 1)}` : null,
      nextHref: hasMore ? `?${query(f.page + 1)}` : null,
    });
  });
  return r;
}
