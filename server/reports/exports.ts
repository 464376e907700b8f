import type { Request } from 'express';
import { recordAudit } from '../audit/service';
import type { Context } from '../context';
import { actorOf } from '../http/request';

/** A list's address with its filters (blank ones left out), for links that keep the list's state. */
export function hrefWith(base: string, q: Record<string, unknown>, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const qs = params.toString();
  return qs ? `${base}?${qs}` : base;
}

/**
 * Records that a list left the portal as a file: who took it, which list and with which filters.
 * Exports hand data out, so they are audited like changes.
 */
export async function auditExport(ctx: Context, req: Request, list: string, filters: Record<string, unknown>): Promise<void> {
  const kept = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== ''));
  await recordAudit(ctx.ds.manager, ctx.clock, actorOf(req), { action: 'report.list_exported', entityType: 'report', entityId: list, details: { list, filters: kept } });
}
