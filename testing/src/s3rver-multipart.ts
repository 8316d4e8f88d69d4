/**
 * The multipart calls s3rver lacks or gets wrong, answered as S3 answers them, from s3rver's own
 * layout of uploads in progress (`<bucket>/._S3rver_uploads/<uploadId>/key`, then one file per part).
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { sendS3Error } from './s3-error.js';
import { uploadsDir } from './s3rver-layout.js';

/** A multipart request this front answers or checks before s3rver sees it. */
export type MultipartCall =
  | { readonly kind: 'abort'; readonly bucket: string; readonly uploadId: string }
  | { readonly kind: 'list'; readonly bucket: string; readonly query: URLSearchParams }
  | { readonly kind: 'part or complete'; readonly bucket: string; readonly uploadId: string };

/** S3's most uploads in one ListMultipartUploads answer, and its default. */
const MAX_UPLOADS = 1000;
/** s3rver's built-in account, which owns and initiates every upload. */
const ACCOUNT = { id: '123456789000', name: 'S3rver' };

/** Which multipart call `req` is (path-style addressing), if it is one this front handles. */
export function multipartCall(req: IncomingMessage): MultipartCall | undefined {
  const url = new URL(req.url ?? '/', 'http://s3');
  const [bucket, ...key] = url.pathname.split('/').slice(1);
  if (bucket === undefined || bucket === '') return undefined;
  const uploadId = url.searchParams.get('uploadId');
  const onObject = key.join('/') !== '';
  const name = decodeURIComponent(bucket);
  if (!onObject && req.method === 'GET' && url.searchParams.has('uploads')) {
    return { kind: 'list', bucket: name, query: url.searchParams };
  }
  if (!onObject || uploadId === null) return undefined;
  if (req.method === 'DELETE') return { kind: 'abort', bucket: name, uploadId };
  if (req.method === 'PUT' || req.method === 'POST') return { kind: 'part or complete', bucket: name, uploadId };
  return undefined;
}

/** The directory of an upload in progress, or undefined when there is none by that id. */
async function uploadDir(directory: string, bucket: string, uploadId: string): Promise<string | undefined> {
  // s3rver's ids are hex: anything else could name a path outside the uploads directory.
  if (!/^[0-9a-f]+$/.test(uploadId)) return undefined;
  const dir = join(uploadsDir(directory, bucket), uploadId);
  // The key file is written when the upload starts: a directory without one holds only a part that
  // arrived after an abort, which S3 would not count as an upload either.
  return (await stat(join(dir, 'key')).catch(() => undefined)) === undefined ? undefined : dir;
}

/** Drops the upload's parts as S3 does; s3rver itself answers AbortMultipartUpload with 405. */
export async function abortUpload(res: ServerResponse, directory: string, bucket: string, uploadId: string) {
  const dir = await uploadDir(directory, bucket, uploadId);
  if (dir === undefined) return sendS3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  await rm(dir, { recursive: true, force: true });
  res.writeHead(204).end();
}

/**
 * True when UploadPart or CompleteMultipartUpload may go on to s3rver. S3 answers either for an upload
 * that was aborted (or never started) with 404 NoSuchUpload; s3rver would store the part anyway,
 * bringing an aborted upload back as a directory of parts.
 */
export async function checkUploadExists(
  res: ServerResponse,
  directory: string,
  bucket: string,
  uploadId: string,
): Promise<boolean> {
  if ((await uploadDir(directory, bucket, uploadId)) !== undefined) return true;
  sendS3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  return false;
}

interface OpenUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Every upload in progress in `bucket`, by key, then by upload id. */
async function openUploads(directory: string, bucket: string): Promise<OpenUpload[]> {
  const root = uploadsDir(directory, bucket);
  const uploads: OpenUpload[] = [];
  for (const uploadId of await readdir(root).catch(() => [])) {
    const keyFile = join(root, uploadId, 'key');
    try {
      const [key, info] = await Promise.all([readFile(keyFile, 'utf8'), stat(keyFile)]);
      uploads.push({ key, uploadId, initiated: info.mtime });
    } catch {
      // Completed or aborted while listing, or only a late part: not an upload in progress.
    }
  }
  // S3 orders one key's uploads by initiation time but resumes a page after an upload id compared as
  // a string; s3rver's ids are random, so ordering by id is what keeps pages from skipping uploads.
  return uploads.sort((a, b) => byteOrder(a.key, b.key) || byteOrder(a.uploadId, b.uploadId));
}

const xml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
const element = (name: string, value: string) => `<${name}>${xml(value)}</${name}>`;

/**
 * ListMultipartUploads (`GET /bucket?uploads`) in S3's wire format: uploads whose key starts with
 * `prefix`, after `key-marker` (and, for that key, after `upload-id-marker`), at most `max-uploads`
 * (1000 at most) per page, with `NextKeyMarker` and `NextUploadIdMarker` when truncated. `delimiter`
 * and `encoding-type` are answered with 501 NotImplemented rather than ignored.
 */
export async function listUploads(
  res: ServerResponse,
  directory: string,
  bucket: string,
  query: URLSearchParams,
): Promise<void> {
  if (!(await stat(join(directory, bucket)).catch(() => undefined))?.isDirectory()) {
    return sendS3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
  }
  for (const unsupported of ['delimiter', 'encoding-type']) {
    if (query.has(unsupported)) {
      return sendS3Error(res, 501, 'NotImplemented', `ListMultipartUploads with ${unsupported} is not implemented`);
    }
  }
  const rawMax = query.get('max-uploads') ?? String(MAX_UPLOADS);
  if (!/^[1-9]\d*$/.test(rawMax)) {
    return sendS3Error(res, 400, 'InvalidArgument', 'max-uploads must be a positive integer');
  }
  const maxUploads = Math.min(Number(rawMax), MAX_UPLOADS);
  const prefix = query.get('prefix') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  // Without a key marker, S3 ignores the upload id marker.
  const uploadIdMarker = keyMarker === '' ? '' : (query.get('upload-id-marker') ?? '');
  const after = (upload: OpenUpload) =>
    keyMarker === '' ||
    byteOrder(upload.key, keyMarker) > 0 ||
    (upload.key === keyMarker && uploadIdMarker !== '' && byteOrder(upload.uploadId, uploadIdMarker) > 0);
  const matching = (await openUploads(directory, bucket)).filter((u) => u.key.startsWith(prefix) && after(u));
  const page = matching.slice(0, maxUploads);
  const truncated = matching.length > page.length;
  const last = page.at(-1);
  const party = (name: string) =>
    `<${name}>${element('ID', ACCOUNT.id)}${element('DisplayName', ACCOUNT.name)}</${name}>`;
  const body = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    element('Bucket', bucket),
    element('KeyMarker', keyMarker),
    element('UploadIdMarker', uploadIdMarker),
    ...(truncated && last !== undefined
      ? [element('NextKeyMarker', last.key), element('NextUploadIdMarker', last.uploadId)]
      : []),
    element('Prefix', prefix),
    element('MaxUploads', String(maxUploads)),
    element('IsTruncated', String(truncated)),
    ...page.map(
      (upload) =>
        `<Upload>${element('Key', upload.key)}${element('UploadId', upload.uploadId)}${party('Initiator')}` +
        `${party('Owner')}${element('StorageClass', 'STANDARD')}` +
        `${element('Initiated', upload.initiated.toISOString())}</Upload>`,
    ),
    '</ListMultipartUploadsResult>',
  ].join('');
  res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
}
