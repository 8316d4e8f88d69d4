/**
 * Child process of `s3.ts`: uploads one object of BENCH_S3_BYTES bytes through backup-s3's
 * `S3Backend`, built as the module builds it with its documented defaults (6 MiB parts, 1 at once),
 * from a stream generated on the fly, then reads it back hashing it. Runs in its own process so its
 * VmHWM is the backend's peak alone. Prints one JSON line: timings, hashes and peak RSS.
 *
 * Environment: BENCH_S3_ENDPOINT, BENCH_S3_BUCKET, BENCH_S3_KEY, BENCH_S3_BYTES, and the server's
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { clientSettings, createS3Client, S3Backend } from '@strata/backup-s3';
import { peakRss } from './strata-child.js';

const MiB = 1024 * 1024;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

/** `bytes` bytes in 1 MiB chunks, each a fresh buffer, so nothing but what the reader holds stays in memory. */
function generated(bytes: number, hash: ReturnType<typeof createHash>): Readable {
  const block = randomBytes(MiB);
  return Readable.from(
    (function* () {
      for (let offset = 0, i = 0; offset < bytes; offset += MiB, i++) {
        const chunk = Buffer.allocUnsafe(Math.min(MiB, bytes - offset));
        block.copy(chunk, 0, 0, chunk.length);
        chunk.writeUInt32LE(i, 0); // no two chunks alike
        hash.update(chunk);
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
}

const endpoint = required('BENCH_S3_ENDPOINT');
const bucket = required('BENCH_S3_BUCKET');
const key = required('BENCH_S3_KEY');
const bytes = Number(required('BENCH_S3_BYTES'));
const region = 'us-east-1';

// What the module's register() does with the variables left at their defaults.
const settings = clientSettings({
  endpoint,
  useSSL: true,
  region,
  accessKeyId: required('AWS_ACCESS_KEY_ID'),
  secretAccessKey: required('AWS_SECRET_ACCESS_KEY'),
  maxAttempts: 5,
  timeoutSeconds: 60,
});
const backend = new S3Backend({
  client: createS3Client(settings),
  endpoint: settings.endpoint.url,
  region,
  bucket,
  path: '',
  staticKeys: true,
  partSize: 6 * MiB,
  concurrency: 2,
  maxAttempts: 5,
});

const rssAtStart = await peakRss('self');

const sent = createHash('sha256');
let started = performance.now();
const written = await backend.write(key, generated(bytes, sent));
const writeMs = performance.now() - started;
const rssAfterWrite = await peakRss('self');

const received = createHash('sha256');
let read = 0;
started = performance.now();
for await (const chunk of await backend.read(key)) {
  received.update(chunk as Buffer);
  read += (chunk as Buffer).length;
}
const readMs = performance.now() - started;
await backend.close();

console.log(
  JSON.stringify({
    written,
    read,
    sent: sent.digest('hex'),
    received: received.digest('hex'),
    writeMs,
    readMs,
    rssAtStart,
    rssAfterWrite,
    rssAfterRead: await peakRss('self'),
  }),
);
