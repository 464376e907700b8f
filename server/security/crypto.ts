import crypto from 'node:crypto';

/** A fresh one-time token for a link: 32 random bytes, URL-safe. Only its hash is ever stored. */
export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** SHA-256 in hex: how tokens and session ids are stored and looked up. */
export function sha256Hex(value: string | Buffer): string {
  return crypto.createHash('sha256').update(value).digest('hex');
}

/** Compares two strings in constant time. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with a random IV; the result is iv | tag | ciphertext. Used for everything the portal
 * keeps that must not sit in the clear (stored files, queued mail bodies).
 */
export function encrypt(key: Buffer, plain: Buffer): Buffer {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Reverses encrypt(); throws if the data was altered or the key is wrong. */
export function decrypt(key: Buffer, sealed: Buffer): Buffer {
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

/** encrypt() for text, as base64 for a text column. */
export function encryptText(key: Buffer, plain: string): string {
  return encrypt(key, Buffer.from(plain, 'utf8')).toString('base64');
}

export function decryptText(key: Buffer, sealed: string): string {
  return decrypt(key, Buffer.from(sealed, 'base64')).toString('utf8');
}
