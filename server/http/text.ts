import type { RequestHandler } from 'express';
import { ValidationError } from '../errors';

/** Deeper than any form or API body of the product; a body nested further is not searched deeper. */
const MAX_DEPTH = 64;

/**
 * The paths of the fields whose name or text holds a NUL character (U+0000). PostgreSQL cannot
 * store one in text, and no person types one, so the product refuses it on every database alike.
 */
export function nulFields(value: unknown, prefix = '', depth = 0): string[] {
  if (typeof value === 'string') return value.includes('\u0000') ? [prefix || 'body'] : [];
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return [];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (key.includes('\u0000')) out.push(path.replace(/\u0000/g, '\uFFFD'));
    else out.push(...nulFields(v, path, depth + 1));
    if (out.length >= 20) break;
  }
  return out;
}

/**
 * Refuses a request whose body (urlencoded, JSON or the text fields of a multipart form) or query
 * holds a NUL character, with a 400 naming each field. It runs after every body parser.
 */
export const refuseNul: RequestHandler = (req, _res, next) => {
  const bad = [...nulFields(req.body), ...nulFields(req.query).map((f) => (f === 'body' ? 'query' : f))];
  if (bad.length === 0) return next();
  throw new ValidationError(
    Object.fromEntries(bad.map((f) => [f, `${f} contains a NUL character (U+0000), which is not accepted in text.`])),
    `The form could not be saved: ${bad.join(', ')} contains a NUL character (U+0000), which is not accepted in text.`,
  );
};

/** A body parser (a multer form, a small urlencoded form) followed by the NUL rule, as one handler. */
export function parsedWithoutNul(parser: RequestHandler): RequestHandler {
  return (req, res, next) => {
    parser(req, res, (err?: unknown) => {
      if (err) return next(err);
      try {
        refuseNul(req, res, next);
      } catch (refusal) {
        next(refusal);
      }
    });
  };
}
