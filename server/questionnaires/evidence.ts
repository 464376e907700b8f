import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';

/** What vendors may upload, decided from the content; the name only tells CSV from plain text. */
export const ACCEPTED_TYPES = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpeg: 'image/jpeg',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv',
  txt: 'text/plain',
} as const;

export const ACCEPTED_DESCRIPTION = 'PDF, PNG, JPEG, Word (.docx), Excel (.xlsx), CSV or plain text';

/**
 * The media type of a file judged by its bytes (magic numbers; for Office files, the parts a ZIP
 * must contain), or null when it is none of the accepted kinds. An executable renamed to .pdf fails.
 */
export function detectType(buf: Buffer, name: string): string | null {
  if (buf.length === 0) return null;
  if (buf.subarray(0, 5).toString('latin1') === '%PDF-') return ACCEPTED_TYPES.pdf;
  if (buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return ACCEPTED_TYPES.png;
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return ACCEPTED_TYPES.jpeg;
  if (buf.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
    // ZIP entry names are stored in clear in the local and central headers.
    const names = buf.toString('latin1');
    if (names.includes('[Content_Types].xml') && names.includes('word/')) return ACCEPTED_TYPES.docx;
    if (names.includes('[Content_Types].xml') && names.includes('xl/')) return ACCEPTED_TYPES.xlsx;
    return null;
  }
  if (buf.includes(0)) return null;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return null;
  }
  return /\.csv$/i.test(name) ? ACCEPTED_TYPES.csv : ACCEPTED_TYPES.txt;
}

/** A file name safe to show and to send back in a header: no folders, control or reserved characters. */
export function sanitizeFileName(name: string): string {
  const base = name.replace(/\\/g, '/').split('/').pop() ?? '';
  const clean = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069<>:"|?*]/g, '')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(-120);
  return clean || 'evidence';
}

const IV = 12;
const TAG = 16;

/**
 * Evidence on disk, outside the web root: each file encrypted with AES-256-GCM under a fresh IV,
 * stored as iv | tag | ciphertext under a random name.
 */
export class EvidenceStore {
  constructor(
    private readonly dir: string,
    private readonly key: Buffer,
  ) {}

  /** Encrypts and writes a file; returns its stored name and the SHA-256 of the plaintext. */
  async put(plain: Buffer): Promise<{ storedName: string; sha256: string }> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const storedName = `${crypto.randomBytes(24).toString('hex')}.bin`;
    const iv = crypto.randomBytes(IV);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const tmp = path.join(this.dir, `${storedName}.tmp`);
    await fsp.writeFile(tmp, Buffer.concat([iv, cipher.getAuthTag(), body]), { mode: 0o600 });
    await fsp.rename(tmp, path.join(this.dir, storedName));
    return { storedName, sha256: crypto.createHash('sha256').update(plain).digest('hex') };
  }

  /** Streams the decrypted file into `out`; a tampered file fails the stream at its end. */
  async pipeTo(storedName: string, out: Writable): Promise<void> {
    const file = this.pathOf(storedName);
    const handle = await fsp.open(file, 'r');
    const header = Buffer.alloc(IV + TAG);
    await handle.read(header, 0, IV + TAG, 0);
    await handle.close();
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, header.subarray(0, IV));
    decipher.setAuthTag(header.subarray(IV));
    await pipeline(fs.createReadStream(file, { start: IV + TAG }), decipher, out);
  }

  async remove(storedName: string): Promise<void> {
    await fsp.rm(this.pathOf(storedName), { force: true });
  }

  /** The path of a stored file; names come from the database and are checked anyway. */
  pathOf(storedName: string): string {
    if (!/^[0-9a-f]{48}\.bin$/.test(storedName)) throw new Error('invalid stored evidence name');
    return path.join(this.dir, storedName);
  }
}
