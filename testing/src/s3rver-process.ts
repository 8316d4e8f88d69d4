/**
 * Entry point of the process {@link startS3Server} spawns: s3rver plus the multipart calls it lacks
 * (AbortMultipartUpload, ListMultipartUploads) or gets wrong (parts sent to an aborted upload), on one
 * port; those calls skip s3rver's access key check (see s3rver-multipart.ts). It runs apart from the
 * tests so its buffers never count in a test's memory figures.
 *
 * Usage: `node --openssl-legacy-provider s3rver-process.js <directory> [bucket...]`; prints
 * `S3 server listening on 127.0.0.1:<port>` once it accepts requests. `S3RVER_ACCESS_KEY_ID` names a
 * key id accepted beside s3rver's built-in `S3RVER`.
 */
import { createServer, type RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import { listen } from './process.js';
import { sendS3Error } from './s3-error.js';
import { abortUpload, checkUploadExists, listUploads, multipartCall } from './s3rver-multipart.js';

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
  const call = multipartCall(req);
  if (call === undefined) return handle(req, res);
  let answered: Promise<void>;
  if (call.kind === 'part or complete') {
    answered = checkUploadExists(res, directory, call.bucket, call.uploadId).then((exists) => {
      if (exists) handle(req, res);
      else req.resume();
    });
  } else {
    req.resume();
    answered =
      call.kind === 'abort'
        ? abortUpload(res, directory, call.bucket, call.uploadId)
        : listUploads(res, directory, call.bucket, call.query);
  }
  // As S3 does when it fails: a 500 the client retries, with the reason for whoever reads the test.
  answered.catch((error: unknown) => sendS3Error(res, 500, 'InternalError', String(error)));
});
const { port } = await listen(server);
console.log(`S3 server listening on 127.0.0.1:${port}`);
