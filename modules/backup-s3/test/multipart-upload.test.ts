import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type S3Server, startS3Server } from '@strata/testing';
import anyTest, { type TestFn } from 'ava';
import { type ChecksumMode, clientSettings, createS3Client } from '../src/client.js';
import { type UploadTarget, uploadStream } from '../src/multipart-upload.js';
import { rejection } from './helpers.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const BUCKET = 'parts';

const test = anyTest as TestFn<{ server: S3Server; clients: Record<ChecksumMode, S3Client> }>;

test.before(async (t) => {
  // One bucket per test that counts open uploads: tests run concurrently.
  const server = await startS3Server({ buckets: [BUCKET, 'broken', 'too-large', 'aborted'] });
  const client = (checksums: ChecksumMode) =>
    createS3Client(
      clientSettings({
        endpoint: server.endpoint,
        useSSL: false,
        region: 'us-east-1',
        accessKeyId: server.accessKeyId,
        secretAccessKey: server.secretAccessKey,
        checksums,
        maxAttempts: 2,
        timeoutSeconds: 30,
      }),
    );
  t.context = { server, clients: { when_required: client('when_required'), when_supported: client('when_supported') } };
});
test.after.always(async (t) => {
  for (const client of Object.values(t.context.clients)) client.destroy();
  await t.context.server.stop();
});

/** `bytes` in source chunks of 64 KiB, so parts are assembled from many chunks and split across them. */
async function* chunked(bytes: Buffer, failAfter?: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += 64 * 1024 + 7) {
    if (failAfter !== undefined && offset >= failAfter) throw new Error('the source broke');
    yield bytes.subarray(offset, offset + 64 * 1024 + 7);
  }
}

function target(client: S3Client, key: string, overrides: Partial<UploadTarget> = {}): UploadTarget {
  return {
    client,
    bucket: BUCKET,
    key,
    partSize: PART,
    concurrency: 2,
    describe: (error) => new Error(`request failed: ${(error as Error).message}`),
    tooLarge: () => new Error('too many parts'),
    ...overrides,
  };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function stored(client: S3Client, key: string): Promise<{ size: number; sha256: string }> {
  const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
  return { size: bytes.length, sha256: sha256(bytes) };
}

for (const mode of ['when_required', 'when_supported'] as const) {
  for (const [name, size] of [
    ['empty', 0],
    ['one byte short of a part', PART - 1],
    ['exactly one part', PART],
    ['two parts and a tail', 2 * PART + 12_345],
  ] as const) {
    test(`[checksums ${mode}] an object ${name} (${size} bytes) is stored byte for byte`, async (t) => {
      const client = t.context.clients[mode];
      const bytes = randomBytes(size);
      const key = `${mode}/${size}`;
      t.is(await uploadStream(chunked(bytes), target(client, key)), size);
      t.deepEqual(await stored(client, key), { size, sha256: sha256(bytes) });
    });
  }
}

test('a source that fails part-way rejects with its own error; the upload is aborted, no object is left', async (t) => {
  const { clients, server } = t.context;
  const bucket = 'broken';
  const error = await rejection(
    uploadStream(chunked(randomBytes(3 * PART), 2 * PART + MiB), target(clients.when_required, 'x', { bucket })),
  );
  t.is(error.message, 'the source broke');
  t.deepEqual(await server.openUploads(bucket), []);
  await t.throwsAsync(clients.when_required.send(new HeadObjectCommand({ Bucket: bucket, Key: 'x' })));
});

test('an object needing more parts than allowed fails with tooLarge before completing; the upload is aborted', async (t) => {
  const { clients, server } = t.context;
  const bucket = 'too-large';
  const error = await rejection(
    uploadStream(chunked(randomBytes(2 * PART + 1)), target(clients.when_required, 'x', { bucket, maxParts: 2 })),
  );
  t.is(error.message, 'too many parts');
  t.deepEqual(await server.openUploads(bucket), []);
  await t.throwsAsync(clients.when_required.send(new HeadObjectCommand({ Bucket: bucket, Key: 'x' })));
});

test('a failed request rejects through describe', async (t) => {
  const { clients } = t.context;
  const error = await rejection(
    uploadStream(chunked(randomBytes(2 * PART)), target(clients.when_required, 'x', { bucket: 'no-such-bucket' })),
  );
  t.regex(error.message, /^request failed: .*bucket/i);
});

test('a signal aborted mid-upload rejects with its reason; the upload is aborted', async (t) => {
  const { clients, server } = t.context;
  const controller = new AbortController();
  const reason = new Error('canceled by the test');
  async function* slow() {
    yield* chunked(randomBytes(PART + MiB));
    controller.abort(reason);
    yield Buffer.alloc(1);
  }
  const bucket = 'aborted';
  const error = await rejection(
    uploadStream(slow(), target(clients.when_required, 'x', { bucket, signal: controller.signal })),
  );
  t.is(error, reason);
  t.deepEqual(await server.openUploads(bucket), []);
});
