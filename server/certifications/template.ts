import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseYamlFile } from '../data-files';

/**
 * Certification templates: YAML data files in certifications/, validated when loaded. The format is
 * documented in certifications/README.md; this schema is its definition.
 */

/** What a certification is for: the yearly security certification, or the disposal certificate at offboarding. */
export const CERTIFICATION_PURPOSES = ['annual', 'disposal'] as const;
export type CertificationPurpose = (typeof CERTIFICATION_PURPOSES)[number];

export const PURPOSE_LABELS: Record<CertificationPurpose, string> = {
  annual: 'Annual security certification',
  disposal: 'Certificate of return or disposal',
};

/** Validity when a template names none. */
export const DEFAULT_VALIDITY_MONTHS = 12;

/** The placeholders a statement may use, filled in when a certification is requested. */
export const PLACEHOLDERS = ['vendor', 'organization', 'validity'] as const;

const VALIDITY_MESSAGE = 'must be a whole number of months from 1 to 60, or "never"';
const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lower-case letters, digits, "-" or "_" (at most 64)');
const citation = z.string().trim().min(3, 'must name the rule').max(120);

export const certificationTemplateSchema = z
  .object({
    id,
    version: z.number().int().positive(),
    purpose: z.enum(CERTIFICATION_PURPOSES, { error: `must be one of: ${CERTIFICATION_PURPOSES.join(', ')}` }),
    title: z.string().trim().min(3).max(200),
    description: z.string().trim().max(2000).optional(),
    /** Months a signed certification is in force, or "never" for a one-off attestation. */
    validity_months: z
      .union([z.number().int(VALIDITY_MESSAGE).min(1, VALIDITY_MESSAGE).max(60, VALIDITY_MESSAGE), z.literal('never')], { error: VALIDITY_MESSAGE })
      .default(DEFAULT_VALIDITY_MONTHS),
    citations: z.array(citation).min(1, 'needs at least one citation'),
    statement: z.string().trim().min(50, 'must be at least 50 characters').max(20000),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const m of t.statement.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
      if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
        ctx.addIssue({ code: 'custom', path: ['statement'], message: `unknown placeholder {{${m[1]}}} (use ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})` });
      }
    }
    if (/\{\{|\}\}/.test(t.statement.replace(/\{\{\s*[^}]*?\s*\}\}/g, ''))) ctx.addIssue({ code: 'custom', path: ['statement'], message: 'has an unclosed placeholder' });
    const claim = claimsRuleRequiresCertification(t.statement);
    if (claim) ctx.addIssue({ code: 'custom', path: ['statement'], message: `must not say that 201 CMR 17.00 requires a written certification (the final rule replaced that duty with a contractual one): "${claim}"` });
  });

export type CertificationTemplate = z.infer<typeof certificationTemplateSchema>;

/**
 * The clause of a text that says 201 CMR 17.00 requires a certification, if any. The 2008 rule did;
 * the rule in force since 2010 does not, and the portal must never say otherwise.
 */
export function claimsRuleRequiresCertification(text: string): string | null {
  for (const clause of text.split(/(?<=[.;:])\s+/)) {
    if (/17\.00/.test(clause) && /\brequire/i.test(clause) && /certif/i.test(clause) && !/\b(not|no longer|never)\b/i.test(clause)) return clause.trim();
  }
  return null;
}

export interface LoadedCertificationTemplate {
  file: string;
  id: string;
  version: number | null;
  title: string;
  purpose: CertificationPurpose | null;
  valid: boolean;
  /** Each problem as "file: path: reason". */
  errors: string[];
  template: CertificationTemplate | null;
  /** SHA-256 of the normalized template: what a request pins. */
  contentHash: string | null;
}

/** "12 months", "1 month", or "no fixed period". */
export function validityText(months: number | 'never'): string {
  if (months === 'never') return 'no fixed period';
  return `${months} month${months === 1 ? '' : 's'}`;
}

/** The statement with its placeholders filled in, as the vendor will read and sign it. */
export function renderStatement(t: CertificationTemplate, values: { vendor: string; organization: string }): string {
  const fill: Record<(typeof PLACEHOLDERS)[number], string> = { vendor: values.vendor, organization: values.organization, validity: validityText(t.validity_months) };
  return t.statement.replace(/\{\{\s*(vendor|organization|validity)\s*\}\}/g, (_, k: keyof typeof fill) => fill[k]).replace(/\r\n/g, '\n').trim();
}

/**
 * The exact text a signer is shown and whose SHA-256 is recorded: the title, a blank line, then the
 * statement (UTF-8). Verification recomputes it from the stored title and statement.
 */
export function certificationText(title: string, statement: string): string {
  return `${title}\n\n${statement}`;
}

/** SHA-256 (hex) of a certification's text. */
export function textHash(title: string, statement: string): string {
  return crypto.createHash('sha256').update(certificationText(title, statement), 'utf8').digest('hex');
}

/** Parses and validates one file's text; never throws. */
export function parseCertificationTemplate(file: string, text: string): LoadedCertificationTemplate {
  const base = { file, id: path.basename(file).replace(/\.ya?ml$/, ''), version: null, title: path.basename(file), purpose: null, valid: false, template: null, contentHash: null };
  const result = parseYamlFile(file, text, certificationTemplateSchema);
  if (!result.ok) {
    const d = (result.raw ?? {}) as { id?: unknown; version?: unknown; title?: unknown };
    return {
      ...base,
      id: typeof d.id === 'string' ? d.id : base.id,
      version: typeof d.version === 'number' ? d.version : null,
      title: typeof d.title === 'string' ? d.title : base.title,
      errors: result.errors,
    };
  }
  const t = result.data;
  return { file, id: t.id, version: t.version, title: t.title, purpose: t.purpose, valid: true, errors: [], template: t, contentHash: crypto.createHash('sha256').update(JSON.stringify(t)).digest('hex') };
}

/**
 * Loads every *.yaml / *.yml file of a folder. A broken file is returned as invalid (with its
 * problems) rather than thrown, so one bad template never stops the portal; two valid files with the
 * same id make both invalid.
 */
export function loadCertificationTemplates(dir: string): LoadedCertificationTemplate[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /\.ya?ml$/i.test(n)).sort();
  } catch {
    return [];
  }
  const loaded = names.map((n): LoadedCertificationTemplate => {
    try {
      return parseCertificationTemplate(n, fs.readFileSync(path.join(dir, n), 'utf8'));
    } catch (err) {
      return { file: n, id: n, version: null, title: n, purpose: null, valid: false, errors: [`${n}: ${(err as Error).message}`], template: null, contentHash: null };
    }
  });
  // Decide on every file before marking any, so each of the twins is refused, not only the first.
  const twinsOf = new Map(loaded.map((t) => [t, loaded.filter((o) => o !== t && o.valid && o.id === t.id)]));
  for (const [t, twins] of twinsOf) {
    if (t.valid && twins.length > 0) {
      t.valid = false;
      t.errors = [`${t.file}: id "${t.id}" is also used by ${twins.map((o) => o.file).join(', ')}`];
    }
  }
  return loaded;
}
