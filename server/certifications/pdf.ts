import { newPdfDocument } from '../reports/pdf';

export interface CertificatePdfInput {
  organizationName: string;
  vendorName: string;
  title: string;
  statement: string;
  templateId: string;
  templateVersion: number;
  textSha256: string;
  /** Null: an unsigned copy to print, sign on paper and upload. */
  signature: {
    method: 'link' | 'upload';
    signerName: string;
    signerTitle: string;
    signerCompany: string;
    typedSignature: string | null;
    signedAt: Date;
    ip: string | null;
    userAgent: string | null;
    linkId: number | null;
    file: { name: string; sha256: string } | null;
    confirmedBy: string | null;
    confirmedAt: Date | null;
    expiresOn: string | null;
    sealSha256: string | null;
  } | null;
  /** The result of recomputing the hashes when the document was produced. */
  verified: boolean | null;
  generatedAt: Date;
}

const utc = (d: Date) => `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/**
 * The certificate as a PDF, built with the standard PDF fonts (nothing fetched, nothing embedded):
 * the text, the signer, the time, the address, and the hashes that let anyone check it. Hashes are
 * set in Courier so they can be read and copied exactly.
 */
export function certificatePdf(p: CertificatePdfInput): Promise<Buffer> {
  const doc = newPdfDocument({
    size: 'A4',
    margins: { top: 56, bottom: 56, left: 64, right: 64 },
    compress: false,
    info: { Title: p.title, Author: p.organizationName, Subject: `Written certification: ${p.vendorName}`, Creator: 'Oversight', CreationDate: p.generatedAt },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const width = doc.page.width - 128;
  const label = (name: string, value: string) => {
    doc.font('Helvetica-Bold').fontSize(10).text(`${name}: `, { continued: true }).font('Helvetica').text(value, { width });
  };
  const hash = (name: string, value: string) => {
    doc.font('Helvetica-Bold').fontSize(10).text(name, { width });
    doc.font('Courier').fontSize(9).text(value, { width });
    doc.moveDown(0.3);
  };

  doc.fillColor('#57606a').font('Helvetica').fontSize(9).text(`${p.organizationName} · written certification · ${p.templateId}, version ${p.templateVersion}`, { width });
  doc.moveDown(0.8).fillColor('#1b1f24');
  doc.font('Helvetica-Bold').fontSize(16).text(p.title, { width });
  doc.moveDown(0.3);
  doc.font('Helvetica').fontSize(11).text(`Vendor: ${p.vendorName}`, { width });
  doc.moveDown(0.8);
  for (const paragraph of p.statement.split(/\n\s*\n/)) {
    doc.font('Helvetica').fontSize(10.5).text(paragraph.trim(), { width, align: 'left', lineGap: 1.5 });
    doc.moveDown(0.6);
  }
  doc.moveDown(0.4);
  doc.moveTo(64, doc.y).lineTo(64 + width, doc.y).strokeColor('#d0d7de').stroke();
  doc.moveDown(0.8);

  const s = p.signature;
  if (s) {
    doc.font('Helvetica-Bold').fontSize(13).text('Signature', { width });
    doc.moveDown(0.4);
    label('Signed by', `${s.signerName}, ${s.signerTitle}, ${s.signerCompany}`);
    if (s.typedSignature) {
      doc.font('Helvetica-Bold').fontSize(10).text('Signature (typed): ', { continued: true }).font('Times-Italic').fontSize(14).text(s.typedSignature, { width });
    }
    label('Signed at', utc(s.signedAt));
    if (s.method === 'link') {
      label('How', `online, through personal certification link ${s.linkId ?? ''}, after ticking the attestation that the whole text was read`);
      label('From address', s.ip ?? 'not recorded');
      label('Browser', s.userAgent ?? 'not recorded');
    } else {
      label('How', `signed on paper; the signed PDF was uploaded through personal certification link ${s.linkId ?? ''}${s.file ? ` as "${s.file.name}"` : ''} from address ${s.ip ?? 'not recorded'}`);
      if (s.confirmedAt) label('Confirmed', `by ${s.confirmedBy ?? 'a former user'} on ${utc(s.confirmedAt)}`);
    }
    label('In force until', s.expiresOn ? `${s.expiresOn} (inclusive)` : 'no fixed period');
    doc.moveDown(0.8);
  } else {
    doc.font('Helvetica-Bold').fontSize(13).text('Not signed yet', { width });
    doc.moveDown(0.4);
    doc.font('Helvetica').fontSize(10).text('To sign on paper: print this page, complete and sign below, scan it as a PDF and upload it through your personal link.', { width });
    doc.moveDown(1);
    for (const line of ['Full name', 'Title', 'Company', 'Signature', 'Date']) {
      doc.font('Helvetica').fontSize(10).text(`${line}: ____________________________________________`, { width });
      doc.moveDown(0.9);
    }
  }

  doc.font('Helvetica-Bold').fontSize(13).text('Integrity', { width });
  doc.moveDown(0.4);
  hash('SHA-256 of the text (title, a blank line, then the statement, UTF-8):', p.textSha256);
  if (s?.file) hash('SHA-256 of the uploaded signed PDF:', s.file.sha256);
  if (s?.sealSha256) hash('Seal (SHA-256 over the text hash and every signature field):', s.sealSha256);
  if (p.verified !== null) {
    doc.font('Helvetica').fontSize(10).fillColor(p.verified ? '#1a7f37' : '#cf222e').text(p.verified ? `Checked on ${utc(p.generatedAt)}: the stored text and signature match their hashes.` : `Checked on ${utc(p.generatedAt)}: VERIFICATION FAILED. The stored record does not match its hashes.`, { width });
    doc.fillColor('#1b1f24');
  }
  doc.moveDown(1);
  doc.fillColor('#57606a').font('Helvetica').fontSize(8.5).text(`Produced by Oversight for ${p.organizationName} on ${utc(p.generatedAt)}. Written certifications are contractual evidence and good practice in overseeing service providers (201 CMR 17.03(2)(f)); 201 CMR 17.00 itself does not require them.`, { width });
  doc.end();
  return done;
}
