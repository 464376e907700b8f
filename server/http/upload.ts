import multer from 'multer';
import type { RequestHandler } from 'express';
import { parsedWithoutNul } from './text';

/**
 * One file from a multipart form, kept in memory (for small files such as CSV imports), with
 * limits on its size and on the number of parts so a hostile body cannot exhaust the server.
 */
export function singleFileUpload(field: string, maxBytes: number): RequestHandler {
  return parsedWithoutNul(
    multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 10, parts: 12, fieldSize: 10_000, headerPairs: 100 },
    }).single(field),
  );
}
