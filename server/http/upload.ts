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

/** A file of a multipart form held in memory, or only marked when it went over the size limit. */
export interface CappedFile {
  buffer: Buffer;
  size: number;
  /** Over the limit: its bytes were drained and dropped, so the rest of the form is still read. */
  tooLarge?: boolean;
}

/**
 * Multer storage in memory that keeps reading the form past a file over `maxBytes`: the file's
 * bytes are dropped and it is marked `tooLarge`, so the form can come back with what was typed
 * and a reason beside that file, instead of a bare 413. Nothing is written to disk.
 */
export function cappedMemoryStorage(maxBytes: number): multer.StorageEngine {
  return {
    _handleFile(_req, file, cb) {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      file.stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (tooLarge) return;
        if (size > maxBytes) {
          tooLarge = true;
          chunks.length = 0;
          return;
        }
        chunks.push(chunk);
      });
      file.stream.on('error', (err: Error) => cb(err));
      file.stream.on('end', () => cb(null, { buffer: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), size, tooLarge } as Partial<Express.Multer.File>));
    },
    _removeFile(_req, file, cb) {
      (file as Partial<CappedFile>).buffer = undefined;
      cb(null);
    },
  };
}
