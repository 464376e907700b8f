import type { Response } from 'express';
import { z } from 'zod';
import { HttpError, ValidationError } from '../errors';

/** Field name -> the reason it was refused, from a failed schema parse. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out[[...issue.path, k].join('.')] ??= 'Unknown field.';
      continue;
    }
    const key = String(issue.path[0] ?? 'form');
    out[key] ??= issue.message;
  }
  return out;
}

/** Parses a form or API body with its schema; a failure throws a 400 naming each field. */
export function parseInput<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  // Express leaves req.body undefined when nothing was sent; an object schema then sees {}.
  const parsed = schema.safeParse(body === undefined && schema instanceof z.ZodObject ? {} : body);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
  return parsed.data;
}

/**
 * Runs a form submission. A validation error, or a service error that names fields, re-renders the
 * form with its status, the reasons beside the fields, and everything that was typed (less secrets).
 */
export async function handleForm(
  res: Response,
  view: string,
  locals: Record<string, unknown>,
  submitted: Record<string, unknown>,
  action: () => Promise<void>,
): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (!returnsToForm(err)) throw err;
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(submitted)) {
      if (!/password|_csrf|token/i.test(k)) values[k] = v;
    }
    res.status(err.status).render(view, { ...locals, values, errors: err.fields, errorMessage: err.message });
  }
}

/** What a detail page needs to show one of its forms again after a refusal. */
export interface FormSection {
  section: string;
  errors: Record<string, string>;
  values: Record<string, unknown>;
}

/** Whether a refusal goes back to the form (a 400, or any refusal naming fields) rather than to the error page. */
function returnsToForm(err: unknown): err is HttpError {
  return err instanceof HttpError && (err.status === 400 || Object.keys(err.fields).length > 0);
}

/**
 * Runs one form of a page that holds several (a vendor, a finding, a contract): a refusal renders
 * the page again with that form's section, the reasons and what was typed (less the CSRF token).
 */
export async function handleSectionForm(
  res: Response,
  section: string,
  submitted: Record<string, unknown>,
  render: (form: FormSection) => Promise<void>,
  action: () => Promise<void>,
): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (!returnsToForm(err)) throw err;
    res.status(err.status);
    const values = Object.fromEntries(Object.entries(submitted).filter(([k]) => k !== '_csrf'));
    await render({ section, errors: Object.keys(err.fields).length ? err.fields : { form: err.message }, values });
  }
}

/** Trimmed text with a length limit, as forms send it. */
export const text = (label: string, max: number) =>
  z
    .string({ error: `${label} is required.` })
    .trim()
    .min(1, `${label} is required.`)
    .max(max, `${label} must be at most ${max} characters.`);

export const email = (label = 'Email') =>
  z
    .string({ error: `${label} is required.` })
    .trim()
    .min(1, `${label} is required.`)
    .max(254, `${label} must be at most 254 characters.`)
    .pipe(z.email({ error: `${label} must be a valid email address.` }))
    .transform((v) => v.toLowerCase());

/** A page number from a query string: 1 when absent, 400 when nonsense. */
export function pageNumber(raw: unknown): number {
  const parsed = pageParam.safeParse(raw);
  if (!parsed.success) throw new ValidationError({ page: parsed.error.issues[0]?.message ?? 'page is not valid' });
  return parsed.data;
}

export const pageParam = z.coerce
  .number({ error: 'page must be a number' })
  .int('page must be a whole number')
  .min(1, 'page must be 1 or more')
  .max(100000, 'page is too large')
  .default(1);

/** Only the keys the client sent, so a PATCH never resets a field it did not name. */
export function sentFields<T extends object>(parsed: T, body: unknown): Partial<T> {
  const keys = Object.keys((body ?? {}) as object);
  return Object.fromEntries(Object.entries(parsed).filter(([k]) => keys.includes(k))) as Partial<T>;
}
