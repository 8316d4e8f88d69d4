import 'reflect-metadata';
import {
  backupDropRestore,
  type Fault,
  type FaultProxy,
  readAll,
  type S3Server,
  seedClass,
  startFaultProxy,
  startS3Server,
  startTestNode,
  type TestNode,
  waitForStatus,
} from '@strata/testing';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { moduleDir } from './helpers.js';

const test = anyTest as TestFn<{ server: S3Server }>;

test.before(async (t) => {
  t.context.server = await startS3Server({
    buckets: ['transient', 'persistent', 'cancel', 'lost-complete', 'no-upload'],
  });
});
test.after.always((t) => t.context.server.stop());

const isPart = (url: string) => url.includes('partNumber=');
const isChunk = (url: string) => url.includes('/chunk-');
/** CompleteMultipartUpload: a POST on the upload, with no part number. */
const isComplete = (url: string, method: string) => method === 'POST' && url.includes('uploadId=') && !isPart(url);

/**
 * A node backing up to `bucket` (one per test, so open uploads are told apart) through a fault proxy, with parts at S3's minimum so that chunks go up
 * in several parts, a 1 s silence timeout (stalls are retried quickly), and one class of ~12 MiB.
 */
async function faultyNode(t: ExecutionContext<{ server: S3Server }>, bucket: string) {
  const { server } = t.context;
  const proxy = await startFaultProxy(server.endpoint);
  t.teardown(() => proxy.stop());
  const node = await startTestNode(t, {
    ENABLE_MODULES: moduleDir,
    ...server.env(bucket),
    BACKUP_S3_ENDPOINT: proxy.endpoint,
    BACKUP_S3_PART_SIZE: '5MiB',
    BACKUP_S3_TIMEOUT_SECONDS: '1',
    BACKUP_S3_MAX_ATTEMPTS: '6',
  });
  const objects = await seedLarge(node);
  return { proxy, node, objects };
}

/** 8,000 objects of ~2 KiB in one shard: files of several MiB, so uploads are multipart. */
async function seedLarge(node: TestNode) {
  return seedClass(node, 'Doc', 8000, { padding: 2048 });
}

/** With `plan` applied from now on: backs up, drops the class, restores, and returns the final statuses. */
function roundTrip(
  node: TestNode,
  id: string,
  proxy: FaultProxy,
  plan: (url: string, method: string, n: number) => Fault | undefined,
) {
  proxy.setPlan(({ url, method, n }) => plan(url, method, n));
  return backupDropRestore(node, 's3', id, 'Doc', { CompressionLevel: 'NoCompression' });
}

test('transient 503s, 500s, resets and stalls are retried: backup and restore succeed, every object intact', async (t) => {
  const { proxy, node, objects } = await faultyNode(t, 'transient');
  // Every fifth request fails, in turn each way; the first download of each chunk is cut part-way.
  const faults: Fault[] = [
    { kind: 'status', status: 503 },
    { kind: 'reset' },
    { kind: 'status', status: 500 },
    { kind: 'stall', ms: 1500 },
  ];
  const cut = new Set<string>();
  const outcome = await roundTrip(node, 'transient-1', proxy, (url, method, n) => {
    if (method === 'GET' && isChunk(url) && !cut.has(url)) {
      cut.add(url);
      return { kind: 'reset', afterBytes: 64 * 1024 };
    }
    return n % 5 === 4 ? faults[Math.floor(n / 5) % faults.length] : undefined;
  });
  t.is(outcome.backup.status, 'SUCCESS', outcome.backup.error);
  t.is(outcome.restore?.status, 'SUCCESS', outcome.restore?.error);
  t.deepEqual(await readAll(node, 'Doc'), objects, 'every object is back, byte for byte');
  const seen = new Set(proxy.requests.map((r) => `${r.fault}`));
  for (const kind of ['status', 'reset', 'stall']) t.true(seen.has(kind), `the run met a ${kind} fault`);
  t.true(
    proxy.requests.some((r) => r.fault === 'reset' && r.method === 'GET' && isChunk(r.url)),
    'a chunk download was cut and resumed',
  );
  t.true(
    proxy.requests.some((r) => r.fault !== undefined && isPart(r.url)),
    'a part upload met a fault and was retried',
  );
  t.deepEqual(await t.context.server.openUploads('transient'), []);
});

test('a multipart upload completed by a request whose answer was lost is taken as complete', async (t) => {
  const { proxy, node, objects } = await faultyNode(t, 'lost-complete');
  // The server completes the upload, the connection closes before the answer: the SDK's retry meets
  // NoSuchUpload, and the object is there all the same.
  const lost = new Set<string>();
  const outcome = await roundTrip(node, 'lost-complete-1', proxy, (url, method) => {
    if (!isComplete(url, method) || lost.has(url)) return undefined;
    lost.add(url);
    return { kind: 'reset', afterBytes: 0 };
  });
  t.true(lost.size > 0, 'a completion was cut');
  t.true(
    proxy.requests.some((r) => isComplete(r.url, r.method) && r.fault === undefined && r.status === 404),
    'the retry met NoSuchUpload',
  );
  t.is(outcome.backup.status, 'SUCCESS', outcome.backup.error);
  t.is(outcome.restore?.status, 'SUCCESS', outcome.restore?.error);
  t.deepEqual(await readAll(node, 'Doc'), objects, 'every object is back, byte for byte');
});

test('a completion answered NoSuchUpload with no object under the key fails the backup', async (t) => {
  const { proxy, node } = await faultyNode(t, 'no-upload');
  const outcome = await roundTrip(node, 'no-upload-1', proxy, (url, method) =>
    isComplete(url, method) ? { kind: 'status', status: 404, code: 'NoSuchUpload' } : undefined,
  );
  t.is(outcome.backup.status, 'FAILED');
  t.regex(
    outcome.backup.error,
    /backup-s3: writing ".*chunk-.*" in bucket "no-upload" at .* failed: NoSuchUpload \(HTTP 404\)/,
  );
});

test('parts that keep failing fail the backup with the reason, and the multipart upload is aborted', async (t) => {
  const { proxy, node } = await faultyNode(t, 'persistent');
  const outcome = await roundTrip(node, 'persistent-1', proxy, (url, method) =>
    method === 'PUT' && isPart(url) ? { kind: 'status', status: 500 } : undefined,
  );
  t.is(outcome.backup.status, 'FAILED');
  t.regex(
    outcome.backup.error,
    /backup-s3: writing ".*chunk-.*" in bucket "persistent" at .* failed: InternalError \(HTTP 500\) after 6 attempts/,
  );
  t.true(
    proxy.requests.some((r) => r.method === 'DELETE' && r.url.includes('uploadId=')),
    'AbortMultipartUpload was sent',
  );
  const log = proxy.requests
    .filter((r) => r.url.includes('uploads=') || (r.method === 'DELETE' && r.url.includes('uploadId=')))
    .map((r) => `${r.method} ${r.url} ${r.status}`);
  t.deepEqual(await t.context.server.openUploads('persistent'), [], `no parts left billed\n${log.join('\n')}`);
  const status = await node.request('GET', '/v1/backups/s3/persistent-1');
  t.is(status.body.status, 'FAILED', 'never SUCCESS');
});

test('a backup canceled while parts are uploading ends CANCELED with its multipart uploads aborted', async (t) => {
  const { proxy, node } = await faultyNode(t, 'cancel');
  let release = () => {};
  const reached = new Promise<void>((resolve) => {
    release = resolve;
  });
  // Part uploads stall (and time out, and are retried) until the cancel.
  proxy.setPlan(({ url, method }) => {
    if (method !== 'PUT' || !isPart(url)) return undefined;
    release();
    return { kind: 'stall', ms: 900 };
  });
  await node.request('POST', '/v1/backups/s3', { id: 'cancel-1', config: { CompressionLevel: 'NoCompression' } });
  await reached;
  const cancel = await node.request('DELETE', '/v1/backups/s3/cancel-1');
  t.is(cancel.status, 204);
  const status = await waitForStatus(node, '/v1/backups/s3/cancel-1');
  t.is(status.body.status, 'CANCELED');
  proxy.setPlan(() => undefined);
  // The upload is aborted once in-flight parts settle; give them their timeout.
  for (let i = 0; i < 100 && (await t.context.server.openUploads('cancel')).length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.deepEqual(await t.context.server.openUploads('cancel'), [], 'no multipart upload left open');
});
