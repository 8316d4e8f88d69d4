import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { collect } from '@strata/conformance';
import type { BackupBackend } from '@strata/core';
import { type S3Server, startFaultProxy, startS3Server } from '@strata/testing';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { loadS3, rejection } from './helpers.js';

const test = anyTest as TestFn<{ server: S3Server; sdk: S3Client }>;
const crashWriter = fileURLToPath(new URL('./fixtures/crash-writer.js', import.meta.url));

// One bucket per test: each counts the uploads open in its bucket.
const BUCKETS = ['crash', 'many', 'scoped', 'other-bucket', 'refused', 'denied', 'failing', 'raced'];

test.before(async (t) => {
  const server = await startS3Server({ buckets: BUCKETS });
  const sdk = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  t.context = { server, sdk };
});
test.after.always(async (t) => {
  t.context.sdk.destroy();
  await t.context.server.stop();
});

/** backup-s3 on `bucket`, closed after the test. */
async function backendFor(t: ExecutionContext<{ server: S3Server }>, bucket: string, env: Record<string, string> = {}) {
  const { backend, close } = await loadS3({ ...t.context.server.env(bucket), ...env });
  t.teardown(close);
  return backend as BackupBackend & Required<Pick<BackupBackend, 'discardPartialWrites'>>;
}

/** Starts a multipart upload and leaves it, as a process killed right after would. */
async function leaveUpload(t: ExecutionContext<{ sdk: S3Client }>, bucket: string, key: string): Promise<string> {
  const { UploadId } = await t.context.sdk.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  return UploadId as string;
}

/**
 * Starts a process that writes `key` endlessly through backup-s3 in 5 MiB parts, waits until S3 holds
 * its first part, then SIGKILLs it: the node died mid-upload, and nothing aborted the upload.
 */
async function crashMidUpload(server: S3Server, bucket: string, key: string): Promise<void> {
  const env = { ...process.env, ...server.env(bucket), BACKUP_S3_PART_SIZE: '5MiB' };
  const child = spawn(process.execPath, [crashWriter, key], { env, stdio: 'inherit' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const uploads = join(server.directory, bucket, '._S3rver_uploads');
  const hasPart = async () => {
    for (const id of await readdir(uploads).catch((): string[] => [])) {
      if ((await readdir(join(uploads, id)).catch((): string[] => [])).includes('1.md5')) return true;
    }
    return false;
  };
  while (!(await hasPart())) await sleep(20);
  child.kill('SIGKILL');
  await exited;
}

test('the upload of a process killed mid-write is aborted, for the crashed backup only', async (t) => {
  const { server } = t.context;
  const backend = await backendFor(t, 'crash');
  await backend.write('bk-1/backup_config.json', Readable.from([Buffer.from('{}')]));
  await crashMidUpload(server, 'crash', 'bk-1/node1/Article/chunk-1');
  const other = await leaveUpload(t, 'crash', 'bk-2/node1/Article/chunk-1');
  t.is((await server.openUploads('crash')).length, 2, 'the crash left its upload open, parts billed');

  t.is(await backend.discardPartialWrites('bk-1/'), 1);
  t.deepEqual(await server.openUploads('crash'), [other], "bk-2's upload is untouched");
  t.is((await collect(await backend.read('bk-1/backup_config.json'))).toString(), '{}', 'finished objects stay');
  const listed = [];
  for await (const object of backend.list('')) listed.push(object.key);
  t.deepEqual(listed, ['bk-1/backup_config.json']);
  t.is(await backend.discardPartialWrites('bk-1/'), 0, 'a second call finds nothing');
  t.is(await backend.discardPartialWrites(''), 1, "the empty prefix reaches bk-2's too");
  t.deepEqual(await server.openUploads('crash'), []);
});

test('uploads are found across pages of ListMultipartUploads (1005 uploads)', async (t) => {
  const backend = await backendFor(t, 'many');
  const keys = Array.from({ length: 1005 }, (_, i) => `bk/node1/Class/chunk-${i % 500}`); // some keys twice
  for (let next = 0; next < keys.length; ) {
    await Promise.all(keys.slice(next, next + 25).map((key) => leaveUpload(t, 'many', key)));
    next += 25;
  }
  t.is(await backend.discardPartialWrites('bk/'), 1005);
  t.deepEqual(await t.context.server.openUploads('many'), []);
});

test('under config.Path and config.Bucket, uploads there are aborted and the configured ones kept', async (t) => {
  const backend = await backendFor(t, 'scoped', { BACKUP_S3_PATH: 'team' });
  const configured = await leaveUpload(t, 'scoped', 'team/bk/chunk-1');
  await leaveUpload(t, 'scoped', 'elsewhere/bk/chunk-1');
  await leaveUpload(t, 'other-bucket', 'team/bk/chunk-1');
  t.is(await backend.discardPartialWrites('bk/', { scope: { path: 'elsewhere' } }), 1);
  t.is(await backend.discardPartialWrites('bk/', { scope: { bucket: 'other-bucket' } }), 1);
  t.deepEqual(await t.context.server.openUploads('scoped'), [configured]);
  t.deepEqual(await t.context.server.openUploads('other-bucket'), []);
});

test('a prefix that does not end with "/", or could escape, is refused before any request', async (t) => {
  const backend = await backendFor(t, 'refused');
  await leaveUpload(t, 'refused', 'bk/chunk-1');
  const cases: ReadonlyArray<[string, string]> = [
    [
      'bk',
      'invalid object key "bk": discardPartialWrites() takes "" or a prefix that ends with "/", such as "<backupId>/"',
    ],
    ['../', 'invalid object key "..": it has a ".." segment, which could escape the backend root'],
    ['a//', 'invalid object key "a/": it has an empty path segment ("//" or a trailing "/")'],
  ];
  for (const [prefix, message] of cases) {
    const error = await rejection(backend.discardPartialWrites(prefix));
    t.is(error.code, 'STRATA_BACKEND_INVALID_KEY');
    t.is(error.message, message);
  }
  t.is((await t.context.server.openUploads('refused')).length, 1);
});

test('refused access names the permissions discarding needs', async (t) => {
  const proxy = await startFaultProxy(t.context.server.endpoint, () => ({
    kind: 'reply',
    status: 403,
    headers: { 'content-type': 'application/xml' },
    body: '<Error><Code>AccessDenied</Code><Message>refused</Message></Error>',
  }));
  t.teardown(() => proxy.stop());
  const backend = await backendFor(t, 'denied', { BACKUP_S3_ENDPOINT: proxy.endpoint });
  const error = await rejection(backend.discardPartialWrites('bk/'));
  t.is(error.code, 'STRATA_S3_ACCESS_DENIED');
  t.is(
    error.message,
    `backup-s3: bucket "denied" at ${proxy.endpoint} refused the request (AccessDenied (HTTP 403): refused; ` +
      'discarding unfinished uploads under "bk/" needs s3:ListBucketMultipartUploads on the bucket and ' +
      's3:AbortMultipartUpload on its objects). Check the credentials (static keys from AWS_ACCESS_KEY_ID (or ' +
      'AWS_ACCESS_KEY) and AWS_SECRET_ACCESS_KEY) and that they may list the bucket and put, get and delete objects in it.',
  );
});

test('an abort S3 keeps failing fails the call with the reason, after its retries', async (t) => {
  const proxy = await startFaultProxy(t.context.server.endpoint, ({ method }) =>
    method === 'DELETE' ? { kind: 'status', status: 500 } : undefined,
  );
  t.teardown(() => proxy.stop());
  const backend = await backendFor(t, 'failing', { BACKUP_S3_ENDPOINT: proxy.endpoint, BACKUP_S3_MAX_ATTEMPTS: '2' });
  await leaveUpload(t, 'failing', 'bk/chunk-1');
  const error = await rejection(backend.discardPartialWrites('bk/'));
  t.is(error.code, 'STRATA_S3_REQUEST_FAILED');
  t.is(
    error.message,
    `backup-s3: discarding unfinished uploads under "bk/" in bucket "failing" at ${proxy.endpoint} failed: ` +
      'InternalError (HTTP 500) after 2 attempts: injected',
  );
  t.is((await t.context.server.openUploads('failing')).length, 1);
});

test('an upload that ends between the listing and its abort is not counted, and the rest goes on', async (t) => {
  // The first abort meets NoSuchUpload, as when the write completed or another caller aborted it.
  let first = true;
  const proxy = await startFaultProxy(t.context.server.endpoint, ({ method }) => {
    if (method !== 'DELETE' || !first) return undefined;
    first = false;
    return { kind: 'status', status: 404, code: 'NoSuchUpload' };
  });
  t.teardown(() => proxy.stop());
  const backend = await backendFor(t, 'raced', { BACKUP_S3_ENDPOINT: proxy.endpoint });
  await leaveUpload(t, 'raced', 'bk/chunk-1');
  await leaveUpload(t, 'raced', 'bk/chunk-2');
  t.is(await backend.discardPartialWrites('bk/'), 1);
  t.is((await t.context.server.openUploads('raced')).length, 1, 'the upload whose abort was refused stays');
});

test('an aborted discardPartialWrites rejects with the reason', async (t) => {
  const backend = await backendFor(t, 'refused');
  const controller = new AbortController();
  const reason = new Error('stopping');
  controller.abort(reason);
  t.is(await backend.discardPartialWrites('bk/', { signal: controller.signal }).catch((e: unknown) => e), reason);
});
