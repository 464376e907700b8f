import YAML from 'yaml';
import type { z } from 'zod';

/**
 * Reading the portal's YAML data files (questionnaire and certification templates, the clause
 * catalogue): every problem is reported as "file: path.inside: reason", and nothing throws.
 */
export type YamlResult<T> = { ok: true; data: T } | { ok: false; errors: string[]; raw: unknown };

/** Parses YAML text and validates it with a schema. */
export function parseYamlFile<S extends z.ZodType>(file: string, text: string, schema: S): YamlResult<z.infer<S>> {
  let raw: unknown;
  try {
    const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`), raw: null };
    raw = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    return { ok: false, errors: [`${file}: ${(err as Error).message}`], raw: null };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((i) => `${file}: ${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`), raw };
  }
  return { ok: true, data: parsed.data };
}
