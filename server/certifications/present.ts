import type { Certification } from './entities';
import { type CertificationListRow, displayStatus, STATUS_LABELS, type Verification } from './service';
import { certificationText, PURPOSE_LABELS, validityText } from './template';

/** A certification as a list row shows it. */
export function certificationRow(c: CertificationListRow, vendorNames: Map<number, string>, today: string) {
  const status = displayStatus(c, today);
  return {
    id: c.id,
    vendorId: c.vendorId,
    vendorName: vendorNames.get(c.vendorId) ?? '',
    title: c.title,
    templateId: c.templateId,
    templateVersion: c.templateVersion,
    purpose: c.purpose,
    purposeLabel: PURPOSE_LABELS[c.purpose],
    status,
    statusLabel: STATUS_LABELS[status],
    dueDate: c.dueDate,
    requestedAt: c.requestedAt,
    signedAt: c.signedAt,
    signerName: c.signerName,
    method: c.method,
    expiresOn: c.expiresOn,
    recipientEmail: c.recipientEmail,
  };
}

/** Everything the certification page and the printable certificate show. */
export function certificationDetail(c: Certification, names: { vendor: string; requestedBy: string | null; confirmedBy: string | null }, today: string) {
  return {
    ...certificationRow(c, new Map([[c.vendorId, names.vendor]]), today),
    recipientName: c.recipientName,
    templateHash: c.templateHash,
    statement: c.statement,
    text: certificationText(c.title, c.statement),
    textSha256: c.textSha256,
    validity: validityText(c.validityMonths ?? 'never'),
    questionnaireId: c.questionnaireId,
    requestedBy: names.requestedBy,
    signerTitle: c.signerTitle,
    signerCompany: c.signerCompany,
    signature: c.signature,
    signedIp: c.signedIp,
    signedUserAgent: c.signedUserAgent,
    signedLinkId: c.signedLinkId,
    fileName: c.fileName,
    fileSize: c.fileSize,
    fileSha256: c.fileSha256,
    confirmedBy: names.confirmedBy,
    confirmedAt: c.confirmedAt,
    declineReason: c.declineReason,
    declinedAt: c.declinedAt,
    revokeReason: c.revokeReason,
    revokedAt: c.revokedAt,
    sealSha256: c.sealSha256,
  };
}

/** The API's representation of a certification (the text only on single reads). */
export function certificationJson(c: Certification, today: string, withText = false) {
  return {
    id: c.id,
    vendorId: c.vendorId,
    template: { id: c.templateId, version: c.templateVersion, contentHash: c.templateHash },
    purpose: c.purpose,
    title: c.title,
    status: displayStatus(c, today),
    recipient: { name: c.recipientName, email: c.recipientEmail },
    dueDate: c.dueDate,
    questionnaireId: c.questionnaireId,
    requestedById: c.requestedById,
    requestedAt: c.requestedAt.toISOString(),
    validityMonths: c.validityMonths,
    textSha256: c.textSha256,
    ...(withText ? { statement: c.statement } : {}),
    signature:
      c.signedAt && (c.status === 'signed' || c.status === 'uploaded')
        ? {
            method: c.method,
            signerName: c.signerName,
            signerTitle: c.signerTitle,
            signerCompany: c.signerCompany,
            typedSignature: c.signature,
            signedAt: c.signedAt.toISOString(),
            ip: c.signedIp,
            userAgent: c.signedUserAgent,
            linkId: c.signedLinkId,
            file: c.fileSha256 ? { name: c.fileName, size: c.fileSize, sha256: c.fileSha256 } : null,
            confirmedById: c.confirmedById,
            confirmedAt: c.confirmedAt?.toISOString() ?? null,
            sealSha256: c.sealSha256,
          }
        : null,
    expiresOn: c.expiresOn,
    declined: c.declinedAt ? { by: c.signerName, reason: c.declineReason, at: c.declinedAt.toISOString() } : null,
    revoked: c.revokedAt ? { reason: c.revokeReason, at: c.revokedAt.toISOString() } : null,
  };
}

/** A verification result for the API. */
export function verificationJson(v: Verification) {
  return { verified: v.ok, checkedAt: v.checkedAt.toISOString(), text: v.text, seal: v.seal, file: v.file };
}
