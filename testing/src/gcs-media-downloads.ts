/**
 * Object downloads (`alt=media`) streamed from the emulator's file, for the emulator process. The
 * emulator reads a whole object into memory for every download, ranged or not, so reading a 1 GiB
 * object in 8 MiB ranges read 128 GiB; GCS serves a range by itself. This serves the range from disk
 * with the emulator's headers, and leaves anything unusual (a missing object, gzip-encoded content,
 * several ranges) to the emulator.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';

/** The emulator's stored object metadata (firebase-tools ships no types for it). */
interface StoredMetadata {
  readonly name: string;
  readonly size: number | string;
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly etag: string;
  readonly generation: number | string;
  readonly metageneration: number | string;
  readonly storageClass: string;
  readonly crc32c: string;
  readonly md5Hash: string;
}

/** The parts of the storage emulator this file touches. */
export interface MediaEmulator {
  readonly adminStorageLayer: {
    getMetadata(bucket: string, object: string): StoredMetadata | undefined;
    path(bucket: string, object: string): string;
    readonly _persistence: { getDiskPath(fileName: string): string };
  };
}

const MEDIA_PATH = /^(?:\/download)?\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/;

/** `bytes=a-b` or `bytes=a-` within `size`, as [start, end]; undefined for none or anything else. */
function parseRange(header: string | undefined, size: number): [number, number] | undefined | 'other' {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (match === null) return 'other';
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start <= end ? [start, end] : 'other';
}

/**
 * Returns a handler that serves object downloads against `emulator` and returns false for every other
 * request. `crc32cToString` is the emulator's encoding of a stored CRC32C for `x-goog-hash`.
 */
export function mediaDownloads(
  emulator: MediaEmulator,
  crc32cToString: (crc32c: string) => string,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const layer = emulator.adminStorageLayer;
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gcs');
    const match = MEDIA_PATH.exec(url.pathname);
    if (req.method !== 'GET' || url.searchParams.get('alt') !== 'media' || match === null) return false;
    const bucket = decodeURIComponent(match[1] ?? '');
    const object = decodeURIComponent(match[2] ?? '');
    const metadata = layer.getMetadata(bucket, object);
    if (metadata === undefined || (metadata.contentEncoding ?? '') !== '') return false;
    const size = Number(metadata.size);
    const range = parseRange(req.headers.range, size);
    if (range === 'other' || size === 0) return false;
    const [start, end] = range ?? [0, size - 1];
    res.writeHead(range === undefined ? 200 : 206, {
      'accept-ranges': 'bytes',
      'content-type': metadata.contentType ?? 'application/octet-stream',
      'content-length': String(end - start + 1),
      etag: metadata.etag,
      'x-goog-generation': String(metadata.generation),
      'x-goog-metageneration': String(metadata.metageneration),
      'x-goog-storage-class': metadata.storageClass,
      'x-goog-hash': `crc32c=${crc32cToString(metadata.crc32c)},md5=${metadata.md5Hash}`,
      ...(range === undefined ? {} : { 'content-range': `bytes ${start}-${end}/${size}` }),
    });
    const file = layer._persistence.getDiskPath(layer.path(bucket, object));
    // A client that goes away mid-download ends the pipeline with an error; nothing to clean up.
    pipeline(createReadStream(file, { start, end }), res).catch(() => {});
    return true;
  };
}
