import type { CsvRow } from '../csv';
import type { AuditEntry } from './entities';

export const AUDIT_COLUMNS = ['id', 'at', 'actor_type', 'actor_id', 'actor', 'action', 'entity_type', 'entity_id', 'changes', 'details', 'ip'] as const;

/** One audit entry as a CSV row; changes and details as JSON text. */
export function auditCsvRow(e: AuditEntry): CsvRow {
  return {
    id: e.id,
    at: e.at.toISOString(),
    actor_type: e.actorType,
    actor_id: e.actorId ?? '',
    actor: e.actorLabel,
    action: e.action,
    entity_type: e.entityType ?? '',
    entity_id: e.entityId ?? '',
    changes: e.changes ? JSON.stringify(e.changes) : '',
    details: e.details ? JSON.stringify(e.details) : '',
    ip: e.ip ?? '',
  };
}
