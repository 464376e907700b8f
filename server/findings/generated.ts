import type { EntityManager } from 'typeorm';
import { type Actor, recordAudit } from '../audit/service';
import type { Clock } from '../clock';
import type { Severity } from '../questionnaires/template';
import { Finding, OPEN_FINDING_STATUSES } from './entities';

/** A finding a questionnaire's risk rule produced. */
export interface GeneratedFinding {
  questionId: string;
  ruleKey: string;
  title: string;
  severity: Severity;
  citation: string;
  answerText: string;
}

/**
 * Brings a questionnaire's generated findings in line with what its answers trigger now: new
 * triggers become open findings; open generated findings whose rule no longer triggers (after a
 * clarification) are closed. Findings people have worked on are left as they are. Audited.
 */
export async function syncGeneratedFindings(
  m: EntityManager,
  clock: Clock,
  actor: Actor,
  scope: { vendorId: number; questionnaireId: number },
  generated: GeneratedFinding[],
): Promise<{ opened: number; closed: number }> {
  const existing = await m.find(Finding, { where: { questionnaireId: scope.questionnaireId, source: 'generated' } });
  const byKey = new Map(existing.map((f) => [f.ruleKey, f]));
  const now = clock.now();
  let opened = 0;
  for (const g of generated) {
    if (byKey.has(g.ruleKey)) continue;
    const f = await m.save(
      m.create(Finding, {
        vendorId: scope.vendorId,
        questionnaireId: scope.questionnaireId,
        questionId: g.questionId,
        ruleKey: g.ruleKey,
        source: 'generated',
        title: g.title,
        severity: g.severity,
        citation: g.citation.slice(0, 300),
        description: null,
        answerText: g.answerText,
        ownerId: null,
        remediatedBy: 'vendor',
        remediationPlan: null,
        dueDate: null,
        status: 'open',
        riskAcceptedById: null,
        riskAcceptanceReason: null,
        riskAcceptanceExpiresOn: null,
        createdById: null,
        createdAt: now,
        updatedAt: now,
        closedAt: null,
      }),
    );
    await recordAudit(m, clock, actor, { action: 'finding.generated', entityType: 'finding', entityId: f.id, details: { vendorId: scope.vendorId, questionnaireId: scope.questionnaireId, severity: g.severity, citation: g.citation, title: g.title } });
    opened += 1;
  }
  const active = new Set(generated.map((g) => g.ruleKey));
  let closed = 0;
  for (const f of existing) {
    if (f.status !== 'open' || active.has(f.ruleKey ?? '')) continue;
    await m.update(Finding, { id: f.id }, { status: 'closed', closedAt: now, updatedAt: now });
    await recordAudit(m, clock, actor, { action: 'finding.closed', entityType: 'finding', entityId: f.id, changes: { status: ['open', 'closed'] }, details: { reason: 'The answer no longer triggers this rule after clarification.' } });
    closed += 1;
  }
  return { opened, closed };
}

/** The worst severity among a vendor's open findings, or null when none is open. */
export async function worstOpenSeverity(m: EntityManager, vendorId: number): Promise<Severity | null> {
  const rows = await m
    .createQueryBuilder(Finding, 'f')
    .select('f.severity', 'severity')
    .where('f.vendorId = :vendorId AND f.status IN (:...open)', { vendorId, open: OPEN_FINDING_STATUSES })
    .groupBy('f.severity')
    .getRawMany<{ severity: Severity }>();
  const order: Severity[] = ['critical', 'high', 'medium', 'low'];
  return order.find((s) => rows.some((r) => r.severity === s)) ?? null;
}
