const MARGIN = 56;

/**
 * A new PDFKit document. PDFKit is loaded with the first PDF rather than at start: with its font
 * and Unicode tables it holds about 5 MB of heap, which pages never use, and a larger heap lets the
 * garbage collector grow the process further between collections.
 */
let pdfkit: typeof import('pdfkit') | undefined;
export function newPdfDocument(options: PDFKit.PDFDocumentOptions): PDFKit.PDFDocument {
  pdfkit ??= require('pdfkit') as typeof import('pdfkit');
  return new pdfkit(options);
}

/** A report document: standard PDF fonts only (nothing fetched, nothing embedded), uncompressed text. */
export function reportDocument(p: { title: string; author: string; subject: string; createdAt: Date; landscape?: boolean }): PDFKit.PDFDocument {
  // Uncompressed so that the text can be searched and checked by any tool; a ZIP around it compresses anyway.
  return newPdfDocument({
    size: 'A4',
    layout: p.landscape ? 'landscape' : 'portrait',
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    compress: false,
    bufferPages: false,
    info: { Title: p.title, Author: p.author, Subject: p.subject, Creator: 'Oversight', CreationDate: p.createdAt },
  });
}

/** Writing helpers over a document: headings, label/value lines, paragraphs, small print. */
export function writer(doc: PDFKit.PDFDocument) {
  const width = () => doc.page.width - 2 * MARGIN;
  const ink = '#1b1f24';
  const muted = '#57606a';
  return {
    width,
    title(text: string) {
      doc.fillColor(ink).font('Helvetica-Bold').fontSize(18).text(text, MARGIN, doc.y, { width: width() });
      doc.moveDown(0.4);
    },
    h1(text: string) {
      if (doc.y > doc.page.height - MARGIN - 120) doc.addPage();
      doc.moveDown(0.6).fillColor(ink).font('Helvetica-Bold').fontSize(14).text(text, MARGIN, doc.y, { width: width() });
      doc.moveDown(0.3);
    },
    h2(text: string) {
      if (doc.y > doc.page.height - MARGIN - 80) doc.addPage();
      doc.moveDown(0.4).fillColor(ink).font('Helvetica-Bold').fontSize(11.5).text(text, MARGIN, doc.y, { width: width() });
      doc.moveDown(0.2);
    },
    field(label: string, value: string | number | null | undefined) {
      doc.fillColor(ink).font('Helvetica-Bold').fontSize(9.5).text(`${label}: `, MARGIN, doc.y, { continued: true, width: width() });
      doc.font('Helvetica').text(value === null || value === undefined || value === '' ? '—' : String(value), { width: width() });
    },
    para(text: string, opts: { indent?: number; size?: number; color?: string; font?: string } = {}) {
      const indent = opts.indent ?? 0;
      doc.fillColor(opts.color ?? ink).font(opts.font ?? 'Helvetica').fontSize(opts.size ?? 9.5).text(text, MARGIN + indent, doc.y, { width: width() - indent });
    },
    small(text: string, indent = 0) {
      doc.fillColor(muted).font('Helvetica').fontSize(8.5).text(text, MARGIN + indent, doc.y, { width: width() - indent });
      doc.fillColor(ink);
    },
    mono(text: string, indent = 0) {
      doc.fillColor(ink).font('Courier').fontSize(8).text(text, MARGIN + indent, doc.y, { width: width() - indent });
    },
    gap(lines = 0.4) {
      doc.moveDown(lines);
    },
  };
}

/** An instant as "2026-03-02 09:00 UTC". */
export const utc = (d: Date | null | undefined) => (d ? `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—');
