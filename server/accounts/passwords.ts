import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

/** scrypt cost (N = 2^15, r = 8, p = 1): OWASP's recommended minimum for interactive logins. */
const PARAMS = { N: 32768, r: 8, p: 1 } as const;
const KEY_LEN = 32;
const MAX_MEM = 64 * 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** Hashes a password as `scrypt$N$r$p$salt$hash` (base64), so parameters can rise later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password.normalize('NFKC'), salt, KEY_LEN, { ...PARAMS, maxmem: MAX_MEM });
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** True when the password matches the stored hash; constant-time comparison. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  const actual = await scrypt(password.normalize('NFKC'), Buffer.from(saltB64, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEM,
  });
  return crypto.timingSafeEqual(actual, expected);
}

/** A hash of a random password: compared against when the email is unknown, so timing tells nothing. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(crypto.randomBytes(16).toString('hex'));
  return dummyHash;
}

/**
 * The list of common passwords, read when a password is first chosen rather than at start: the list
 * and its package take about 2.5 MB of heap that signing in and the pages never need.
 */
let commonList: Set<string> | undefined;
function commonPasswords(): Set<string> {
  if (!commonList) {
    const { dictionary } = require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
    commonList = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
  }
  return commonList;
}

/**
 * Why a new password is refused, or null when it is acceptable: at least 12 characters, not the
 * email or its name part, and not a commonly used password (also with digits or symbols tacked on).
 */
export function passwordProblem(password: string, email: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  const lower = password.toLowerCase();
  const mail = email.trim().toLowerCase();
  const local = mail.split('@')[0] ?? '';
  if (lower === mail || (local.length >= 4 && lower.includes(local))) return 'must not contain your email address';
  const core = lower.replace(/[^a-z]+$/, '').replace(/^[^a-z]+/, '');
  const common = commonPasswords();
  if (common.has(lower) || (core.length >= 4 && common.has(core))) return 'is too common; choose a longer phrase of your own';
  if (new Set(lower).size < 4) return 'uses too few different characters';
  return null;
}
