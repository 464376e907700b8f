import type { Finding } from './entities';
import { daysBetween, type FindingListFields, isOverdue, REMEDIATOR_LABELS, SEVERITY_LABELS, STATUS_LABELS } from './service';

/** A finding as a list row shows it: labels, names, age and whether it is overdue. */
export function findingRow(f: FindingListFields, vendorNames: Map<number, string>, userNames: Map<number, string>, now: Date) {
  const today = now.toISOString().slice(0, 10);
  return {
    id: f.id,
    title: f.title,
    severity: f.severity,
    severityLabel: SEVERITY_LABELS[f.severity],
    citation: f.citation,
    status: f.status,
    statusLabel: STATUS_LABELS[f.status],
    source: f.source,
    vendorId: f.vendorId,
    vendorName: vendorNames.get(f.vendorId) ?? '',
    ownerName: f.ownerId ? (userNames.get(f.ownerId) ?? '') : '',
    remediatedBy: f.remediatedBy,
    remediatedByLabel: REMEDIATOR_LABELS[f.remediatedBy],
    dueDate: f.dueDate,
    riskAcceptanceExpiresOn: f.riskAcceptanceExpiresOn,
    overdue: isOverdue(f, today),
    ageDays: daysBetween(f.createdAt, now),
    createdAt: f.createdAt,
  };
}

/** Everything the finding page shows. */
export function findingDetail(f: Finding, vendorNames: Map<number, string>, userNames: Map<number, string>, now: Date) {
  return {
    ...findingRow(f, vendorNames, userNames, now),
    description: f.description,
    answerText: f.answerText,
    questionnaireId: f.questionnaireId,
    questionId: f.questionId,
    ownerId: f.ownerId,
    remediationPlan: f.remediationPlan,
    riskAcceptedBy: f.riskAcceptedById ? (userNames.get(f.riskAcceptedById) ?? '') : '',
    riskAcceptanceReason: f.riskAcceptanceReason,
    createdBy: f.createdById ? (userNames.get(f.createdById) ?? '') : '',
    updatedAt: f.updatedAt,
    closedAt: f.closedAt,
  };
}

/** The API's representation of a finding. */
export function findingJson(f: Finding, now: Date) {
  return {
    id: f.id,
    vendorId: f.vendorId,
    source: f.source,
    questionnaireId: f.questionnaireId,
    questionId: f.questionId,
    title: f.title,
    severity: f.severity,
    citation: f.citation,
    description: f.description,
    answerText: f.answerText,
    ownerId: f.ownerId,
    remediatedBy: f.remediatedBy,
    remediationPlan: f.remediationPlan,
    dueDate: f.dueDate,
    status: f.status,
    riskAcceptedById: f.riskAcceptedById,
    riskAcceptanceReason: f.riskAcceptanceReason,
    riskAcceptanceExpiresOn: f.riskAcceptanceExpiresOn,
    createdById: f.createdById,
    overdue: isOverdue(f, now.toISOString().slice(0, 10)),
    ageDays: daysBetween(f.createdAt, now),
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
    closedAt: f.closedAt?.toISOString() ?? null,
  };
}
