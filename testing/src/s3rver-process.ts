/**
 * Entry point of the process {@link startS3Server} spawns: s3rver plus the multipart call it lacks,
 * on one port. It runs apart from the tests so its buffers never count in a test's memory figures.
 *
 * Usage: `node --openssl-legacy-provider s3rver-process.js <directory> [bucket...]`; prints
 * `S3 server listening on 127.0.0.1:<port>` once it accepts requests. `S3RVER_ACCESS_KEY_ID` names a
 * key id accepted beside s3rver's built-in `S3RVER`.
 */
import { rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { listen } from './process.js';
import { sendS3Error } from './s3-error.js';
import { uploadsDir } from './s3rver-layout.js';

/** The part of s3rver's API this process uses (it ships no types). */
interface S3rver {
  configureBuckets(): Promise<void>;
  callback(): RequestListener;
}
type S3rverClass = new (options: {
  directory: string;
  silent: boolean;
  configureBuckets: { name: string; configs: never[] }[];
}) => S3rver;

/** The upload id of an AbortMultipartUpload request (`DELETE /bucket/key?uploadId=...`), if it is one. */
function abortedUpload(req: IncomingMessage): { bucket: string; uploadId: string } | undefined {
  const url = new URL(req.url ?? '/', 'http://s3');
  const uploadId = url.searchParams.get('uploadId');
  if (req.method !== 'DELETE' || uploadId === null) return undefined;
  return { bucket: decodeURIComponent(url.pathname.split('/')[1] ?? ''), uploadId };
}

/** Drops the upload's parts as S3 does; s3rver itself answers AbortMultipartUpload with 405. */
async function abortUpload(res: ServerResponse, directory: string, bucket: string, uploadId: string): Promise<void> {
  const dir = `${uploadsDir(directory, bucket)}/${uploadId}`;
  if (!/^[0-9a-f]+$/.test(uploadId) || !(await stat(dir).catch(() => undefined))) {
    sendS3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
    return;
  }
  await rm(dir, { recursive: true, force: true });
  res.writeHead(204).end();
}

const [directory, ...buckets] = process.argv.slice(2);
if (directory === undefined) throw new Error('usage: s3rver-process.js <directory> [bucket...]');
const require = createRequire(import.meta.url);
const S3rverClass = require('s3rver') as S3rverClass;
const extraKeyId = process.env.S3RVER_ACCESS_KEY_ID;
if (extraKeyId !== undefined) {
  // s3rver looks a request's key id up in its account registry; it never checks a SigV4 signature,
  // so the secret registered here is never used.
  const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account.js') as {
    DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
  };
  DUMMY_ACCOUNT.createKeyPair(extraKeyId, 'unchecked');
}
const s3rver = new S3rverClass({
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
await s3rver.configureBuckets();
const handle = s3rver.callback();
const server = createServer((req, res) => {
  const abort = abortedUpload(req);
  if (abort === undefined) return handle(req, res);
  req.resume();
  void abortUpload(res, directory, abort.bucket, abort.uploadId);
});
const { port } = await listen(server);
console.log(`S3 server listening on 127.0.0.1:${port}`);
