/**
 * The peer of bench:copy: the two client libraries used directly, the way a script moving a backup
 * from S3 to Cloud Storage would: list the backup's objects, and stream each S3 `GetObject` body into
 * a Cloud Storage write stream, 10 objects at once, library defaults (GCS checks each upload's
 * MD5/CRC32C; nothing is read back). Anonymous requests to the GCS emulator.
 *
 * Usage (BENCH_S3_ENDPOINT, BENCH_GCS_ENDPOINT and BENCH_BUCKET set; both servers have that bucket):
 *   node copy-peer.js <from prefix> <to prefix>
 */
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { eachAtOnce } from './at-once.js';

const bucket = process.env.BENCH_BUCKET ?? 'bench';
const s3 = new S3Client({
  endpoint: process.env.BENCH_S3_ENDPOINT,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
const gcs = new Storage({
  apiEndpoint: process.env.BENCH_GCS_ENDPOINT,
  projectId: 'bench',
  authClient: new PassThroughClient(),
}).bucket(bucket);

const [from, to] = process.argv.slice(2);
if (from === undefined || to === undefined) throw new Error('usage: copy-peer.js <from prefix> <to prefix>');
const keys: string[] = [];
for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: `${from}/` })) {
  for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
}
await eachAtOnce(keys, async (key) => {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (Body === undefined) throw new Error(`${key}: no body`);
  await pipeline(Body as NodeJS.ReadableStream, gcs.file(`${to}/${key.slice(from.length + 1)}`).createWriteStream());
});
s3.destroy();
