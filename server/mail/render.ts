import path from 'node:path';
import ejs from 'ejs';
import { VIEWS_DIR } from '../paths';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Helpers a mail template writes with, so one template gives both bodies: each returns plain text
 * for the text body and escaped HTML for the HTML body. Templates output them with `<%-`.
 */
function helpers(format: 'text' | 'html') {
  const html = format === 'html';
  return {
    format,
    p: (text: string) => (html ? `<p style="margin:0 0 16px">${escapeHtml(text)}</p>\n` : `${text}\n\n`),
    action: (url: string, label: string) =>
      html
        ? `<p style="margin:24px 0"><a href="${escapeHtml(url)}" style="background:#1d4e89;color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:bold">${escapeHtml(label)}</a></p>\n<p style="margin:0 0 16px;font-size:13px;color:#57606a">Or copy this address into your browser: ${escapeHtml(url)}</p>\n`
        : `${label}:\n${url}\n\n`,
    list: (items: string[]) => (html ? `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>\n` : `${items.map((i) => `- ${i}`).join('\n')}\n\n`),
  };
}

/** Renders views/mail/<kind>.ejs twice, as text and as HTML (wrapped in a simple layout). */
export async function renderMail(kind: string, locals: Record<string, unknown>): Promise<{ text: string; html: string }> {
  const file = path.join(VIEWS_DIR, 'mail', `${kind}.ejs`);
  const options = { cache: true, filename: file, async: false };
  const text = (await ejs.renderFile(file, { ...locals, ...helpers('text') }, options)).replace(/\n{3,}/g, '\n\n').trim();
  const body = await ejs.renderFile(file, { ...locals, ...helpers('html') }, options);
  const org = typeof locals.organizationName === 'string' ? escapeHtml(locals.organizationName) : 'Oversight';
  const html = `<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#1b1f24;margin:0;padding:24px;background:#f6f8fa"><div style="max-width:600px;margin:0 auto;background:#ffffff;border:1px solid #d0d7de;border-radius:6px;padding:24px">${body}</div><p style="max-width:600px;margin:12px auto;font-size:12px;color:#57606a">Sent by Oversight for ${org}.</p></body></html>`;
  return { text: `${text}\n\n-- \nSent by Oversight for ${typeof locals.organizationName === 'string' ? locals.organizationName : 'your organization'}.\n`, html };
}
