/**
 * Resumable upload requests as Cloud Storage serves them, for the emulator process. The emulator's own
 * handler buffers each request body (capped at 130 MB) and finalises the upload after its first
 * request; this one streams bytes to the emulator's staging file as they arrive, keeps what arrived
 * when a connection breaks, answers status queries and non-final chunks with 308 and the persisted
 * range, and finalises on the last byte. That is what a client's retries are tested against.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The emulator's upload bookkeeping (firebase-tools ships no types for it). */
interface Upload {
  readonly id: string;
  readonly type: string;
  status: string;
  size: number;
}

/** The parts of the storage emulator this file touches. */
export interface UploadEmulator {
  readonly uploadService: {
    getResumableUpload(id: string): Upload;
    continueResumableUpload(id: string, bytes: Buffer): Upload;
    finalizeResumableUpload(id: string): Upload;
  };
  readonly adminStorageLayer: { uploadObject(upload: Upload): Promise<unknown> };
}

/** A parsed Content-Range of an upload request. */
type UploadRange =
  /** `bytes *\/total`: how much has been persisted? */
  | { readonly query: true }
  /** Bytes from `start`; `last` is the final byte's offset, or undefined when the request's end is the object's end. */
  | {
      readonly query: false;
      readonly start: number;
      readonly last: number | undefined;
      readonly total: number | undefined;
    };

/** Parses `bytes A-B/T`, `bytes A-*\/T`, `bytes *\/T` (T may be `*`); a missing header uploads the whole object. */
function parseRange(header: string | undefined): UploadRange | undefined {
  if (header === undefined) return { query: false, start: 0, last: undefined, total: undefined };
  const match = /^bytes (?:(\*)|(\d+)-(-?\d+|\*))\/(\d+|\*)$/.exec(header.trim());
  if (match === null) return undefined;
  const total = match[4] === '*' ? undefined : Number(match[4]);
  if (match[1] === '*') return { query: true };
  const last = match[3] === '*' ? undefined : Number(match[3]);
  return { query: false, start: Number(match[2]), last, total };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, code: number, message: string): void {
  sendJson(res, code, { error: { code, message, errors: [{ reason: 'invalid', domain: 'global', message }] } });
}

/** 308 Resume Incomplete, with the persisted range when there is one. */
function sendIncomplete(res: ServerResponse, size: number): void {
  res.writeHead(308, size > 0 ? { range: `bytes=0-${size - 1}` } : {});
  res.end();
}

/**
 * Returns a handler that serves `PUT /upload/storage/v1/b/:bucket/o?upload_id=...` against `emulator`
 * and returns false for every other request. `toResource` turns the stored metadata into the object
 * resource the JSON API returns.
 */
export function resumableUploads(
  emulator: UploadEmulator,
  toResource: (metadata: unknown) => unknown,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  /** Object resources of finished uploads, answered again to a status query after a lost response. */
  const finished = new Map<string, unknown>();

  const serve = async (req: IncomingMessage, res: ServerResponse, id: string) => {
    const { uploadService } = emulator;
    let upload: Upload;
    try {
      upload = uploadService.getResumableUpload(id);
    } catch {
      req.resume();
      return sendError(res, 404, `No upload session ${id}`);
    }
    const range = parseRange(req.headers['content-range']);
    if (range === undefined) {
      req.resume();
      return sendError(res, 400, `Malformed Content-Range: ${req.headers['content-range']}`);
    }
    if (finished.has(id)) {
      req.resume();
      return sendJson(res, 200, finished.get(id));
    }
    if (upload.status !== 'active') {
      req.resume();
      return sendError(res, 410, `Upload session ${id} is ${upload.status === 'cancelled' ? 'cancelled' : 'finished'}`);
    }
    if (range.query) {
      req.resume();
      return sendIncomplete(res, upload.size);
    }
    if (range.start > upload.size) {
      req.resume();
      return sendError(res, 400, `The range starts at ${range.start} but ${upload.size} bytes were persisted`);
    }
    // Bytes before the persisted end are already stored; GCS ignores them.
    let skip = upload.size - range.start;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        const fresh = skip >= chunk.length ? undefined : chunk.subarray(skip);
        skip = Math.max(0, skip - chunk.length);
        if (fresh !== undefined) upload = uploadService.continueResumableUpload(id, fresh);
      }
    } catch {
      // The connection broke: what arrived stays persisted, as on GCS.
      return;
    }
    const final = range.last === undefined || (range.total !== undefined && range.last + 1 === range.total);
    if (range.total !== undefined && upload.size > range.total) {
      return sendError(res, 400, `${upload.size} bytes received for an object of ${range.total}`);
    }
    if (!final) return sendIncomplete(res, upload.size);
    if (range.total !== undefined && upload.size !== range.total) {
      return sendError(res, 400, `${upload.size} bytes received for an object of ${range.total}`);
    }
    const metadata = await emulator.adminStorageLayer.uploadObject(uploadService.finalizeResumableUpload(id));
    const resource = toResource(metadata);
    finished.set(id, resource);
    sendJson(res, 200, resource);
  };

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gcs');
    const id = url.searchParams.get('upload_id');
    if (req.method !== 'PUT' || id === null || !/^\/upload\/storage\/v1\/b\/[^/]+\/o$/.test(url.pathname)) {
      return false;
    }
    serve(req, res, id).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, String(error));
    });
    return true;
  };
}
