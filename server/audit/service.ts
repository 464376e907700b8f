import type { EntityManager, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { Clock } from '../clock';
import { insertRow } from '../db/rows';
import { type ActorType, AuditEntry, type Changes } from './entities';

/** Who did something: a signed-in user, a vendor through a link, the system itself, or nobody known. */
export interface Actor {
  type: ActorType;
  id: number | null;
  label: string;
  ip: string | null;
}

/** The actor for scheduled work and command-line tools. */
export function systemActor(label = 'system'): Actor {
  return { type: 'system', id: null, label, ip: null };
}

export interface AuditEvent {
  action: string;
  entityType?: string;
  entityId?: string | number;
  changes?: Changes;
  details?: Record<string, unknown>;
}

/**
 * Appends one entry to the audit trail inside the caller's transaction, so the entry exists exactly
 * when the change does. Every state change in the portal goes through here.
 */
export async function recordAudit(manager: EntityManager, clock: Clock, actor: Actor, event: AuditEvent): Promise<void> {
  // The JSON columns' transformer turns objects into text; TypeORM's insert typing does not model that.
  await insertRow(manager, AuditEntry, auditRow(manager, clock.now(), actor, event) as unknown as QueryDeepPartialEntity<AuditEntry>);
}

function auditRow(manager: EntityManager, at: Date, actor: Actor, event: AuditEvent): AuditEntry {
  return manager.create(AuditEntry, {
    at,
    actorType: actor.type,
    actorId: actor.id,
    actorLabel: actor.label.slice(0, 300),
    action: event.action,
    entityType: event.entityType ?? null,
    entityId: event.entityId === undefined ? null : String(event.entityId),
    changes: event.changes && Object.keys(event.changes).length > 0 ? event.changes : null,
    details: event.details ?? null,
    ip: actor.ip,
  });
}

/** Appends many entries at once (a bulk import); same rules as recordAudit. */
export async function recordAuditMany(manager: EntityManager, clock: Clock, actor: Actor, events: AuditEvent[]): Promise<void> {
  const at = clock.now();
  const rows = events.map((event) => auditRow(manager, at, actor, event));
  for (let i = 0; i < rows.length; i += 500) {
    // The JSON columns' transformer turns objects into text; TypeORM's insert typing does not model that.
    await manager.insert(AuditEntry, rows.slice(i, i + 500) as unknown as QueryDeepPartialEntity<AuditEntry>[]);
  }
}

/** The fields that differ between two versions of a record, as [before, after] pairs. */
export function diffFields<T extends object>(before: T, after: Partial<T>, fields: readonly (keyof T)[]): Changes {
  const changes: Changes = {};
  for (const f of fields) {
    if (!(f in after)) continue;
    const a = before[f];
    const b = after[f];
    const norm = (v: unknown) => (v instanceof Date ? v.toISOString() : v);
    if (norm(a) !== norm(b)) changes[String(f)] = [norm(a) ?? null, norm(b) ?? null];
  }
  return changes;
}

export interface AuditFilter {
  actor?: string;
  entityType?: string;
  entityId?: string;
  action?: string;
  from?: Date;
  to?: Date;
}

/** The filters as SQL over entries aliased `a`. */
function filterAudit<Q extends ReturnType<Repository<AuditEntry>['createQueryBuilder']>>(qb: Q, filter: AuditFilter): Q {
  if (filter.actor) qb.andWhere(`LOWER(a.actorLabel) LIKE :actor ${LIKE_ESCAPE}`, { actor: `%${escapeLike(filter.actor.toLowerCase())}%` });
  if (filter.entityType) qb.andWhere('a.entityType = :entityType', { entityType: filter.entityType });
  if (filter.entityId) qb.andWhere('a.entityId = :entityId', { entityId: filter.entityId });
  if (filter.action) qb.andWhere(`a.action LIKE :action ${LIKE_ESCAPE}`, { action: `${escapeLike(filter.action)}%` });
  if (filter.from) qb.andWhere('a.at >= :from', { from: filter.from.toISOString() });
  if (filter.to) qb.andWhere('a.at < :to', { to: filter.to.toISOString() });
  return qb;
}

/**
 * The next batch of entries older than `after` (newest first), for exports that walk the whole log:
 * keyed on (at, id) rather than an offset, so the thousandth batch costs what the first did.
 */
export async function auditBatch(repo: Repository<AuditEntry>, filter: AuditFilter, after: { at: Date; id: number } | null, size: number): Promise<AuditEntry[]> {
  const qb = filterAudit(repo.createQueryBuilder('a'), filter);
  if (after) qb.andWhere('(a.at < :afterAt OR (a.at = :afterAt AND a.id < :afterId))', { afterAt: after.at.toISOString(), afterId: after.id });
  return qb.orderBy('a.at', 'DESC').addOrderBy('a.id', 'DESC').limit(size).getMany();
}

/** A page of audit entries, newest first; `hasMore` tells whether an older page exists. */
export async function listAudit(
  repo: Repository<AuditEntry>,
  filter: AuditFilter,
  page: number,
  pageSize: number,
): Promise<{ entries: AuditEntry[]; hasMore: boolean }> {
  const qb = filterAudit(repo.createQueryBuilder('a'), filter);
  const rows = await qb
    .orderBy('a.at', 'DESC')
    .addOrderBy('a.id', 'DESC')
    .offset((page - 1) * pageSize)
    .limit(pageSize + 1)
    .getMany();
  return { entries: rows.slice(0, pageSize), hasMore: rows.length > pageSize };
}

/** SQLite has no default LIKE escape character; naming one makes escapeLike() work on both databases. */
export const LIKE_ESCAPE = "ESCAPE '\\'";

/** Escapes LIKE wildcards in user input; use with LIKE_ESCAPE. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
