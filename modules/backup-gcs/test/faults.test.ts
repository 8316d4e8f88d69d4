import 'reflect-metadata';
import { Storage } from '@google-cloud/storage';
import {
  backupDropRestore,
  type Fault,
  type FaultProxy,
  type GcsEmulator,
  readAll,
  seedClass,
  startFaultProxy,
  startGcsEmulator,
  startTestNode,
  type TestNode,
  waitForStatus,
} from '@strata/testing';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { moduleDir } from './helpers.js';

const test = anyTest as TestFn<{ emulator: GcsEmulator }>;

test.before(async (t) => {
  t.context.emulator = await startGcsEmulator({ buckets: ['transient', 'persistent', 'silent', 'cancel'] });
});
test.after.always((t) => t.context.emulator.stop());

/** A request carrying bytes of a resumable upload (or asking how many arrived). */
const isUpload = (url: string, method: string) => method === 'PUT' && url.includes('upload_id=');
/** The same, for a chunk (the session URL names the object). */
const isChunkUpload = (url: string, method: string) => isUpload(url, method) && url.includes('chunk-');
/** The session a resumable upload request belongs to. */
const sessionOf = (url: string) => new URL(url, 'http://proxy').searchParams.get('upload_id');
const isChunkDownload = (url: string, method: string) =>
  method === 'GET' && url.includes('alt=media') && url.includes('chunk-');

/** An error answer shaped as Google's JSON API sends it. */
function googleError(status: number): Fault {
  const message = `injected ${status}`;
  return {
    kind: 'reply',
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: { code: status, message, errors: [{ reason: 'backendError', message }] } }),
  };
}

/**
 * A node backing up to `bucket` (one per test) through a fault proxy, with 1 MiB upload chunks (so a
 * chunk goes up in several requests), a 1 s timeout (stalls are retried quickly), and one class of
 * ~12 MiB.
 */
async function faultyNode(
  t: ExecutionContext<{ emulator: GcsEmulator }>,
  bucket: string,
  env: Record<string, string> = {},
) {
  const { emulator } = t.context;
  const proxy = await startFaultProxy(emulator.endpoint);
  t.teardown(() => proxy.stop());
  const node = await startTestNode(t, {
    ENABLE_MODULES: moduleDir,
    ...emulator.env(bucket),
    STORAGE_EMULATOR_HOST: proxy.endpoint,
    BACKUP_GCS_CHUNK_SIZE: '1MiB',
    BACKUP_GCS_TIMEOUT_SECONDS: '1',
    BACKUP_GCS_MAX_ATTEMPTS: '6',
    ...env,
  });
  const objects = await seedClass(node, 'Doc', 8000, { padding: 2048 });
  return { proxy, node, objects };
}

/** With `plan` applied from now on: backs up, drops the class, restores, and returns the final statuses. */
function roundTrip(
  node: TestNode,
  id: string,
  proxy: FaultProxy,
  plan: (url: string, method: string, n: number) => Fault | undefined,
) {
  proxy.setPlan(({ url, method, n }) => plan(url, method, n));
  return backupDropRestore(node, 'gcs', id, 'Doc', { CompressionLevel: 'NoCompression' });
}

/** Every object name under `prefix` in `bucket`, listed by Google's client directly. */
async function objectNames(emulator: GcsEmulator, bucket: string, prefix: string): Promise<string[]> {
  const storage = new Storage({ apiEndpoint: emulator.endpoint, projectId: emulator.projectId });
  const [files] = await storage.bucket(bucket).getFiles({ prefix });
  return files.map((file) => file.name);
}

test('transient 503s, 500s, resets and stalls are retried: backup and restore succeed, every object intact', async (t) => {
  const { proxy, node, objects } = await faultyNode(t, 'transient');
  // Every fifth request fails, in turn each way (the stall outlasts the 1 s timeout). Each upload
  // meets every fault once, at its 2nd, 5th, 8th and 11th request: the client library counts retries
  // per upload, not per request. Each chunk's download first goes silent part-way, then is cut.
  const faults: Fault[] = [googleError(503), { kind: 'reset' }, googleError(500), { kind: 'stall', ms: 1500 }];
  const downloads = new Map<string, number>();
  const uploads = new Map<string, number>();
  const outcome = await roundTrip(node, 'transient-1', proxy, (url, method, n) => {
    if (isUpload(url, method)) {
      const session = `${sessionOf(url)}`;
      const k = uploads.get(session) ?? 0;
      uploads.set(session, k + 1);
      return k % 3 === 1 ? faults[(k - 1) / 3] : undefined;
    }
    const reads = isChunkDownload(url, method) ? (downloads.get(url) ?? 0) : 2;
    if (reads < 2) {
      downloads.set(url, reads + 1);
      return reads === 0
        ? { kind: 'stall', ms: 3000, afterBytes: 64 * 1024 }
        : { kind: 'reset', afterBytes: 64 * 1024 };
    }
    return n % 5 === 4 ? faults[Math.floor(n / 5) % faults.length] : undefined;
  });
  t.is(outcome.backup.status, 'SUCCESS', outcome.backup.error);
  t.is(outcome.restore?.status, 'SUCCESS', outcome.restore?.error);
  t.deepEqual(await readAll(node, 'Doc'), objects, 'every object is back, byte for byte');
  const met = (kind: string, what: (r: { url: string; method: string }) => boolean) =>
    proxy.requests.some((r) => r.fault === kind && what(r));
  for (const kind of ['reply', 'reset', 'stall']) {
    t.true(
      met(kind, (r) => isUpload(r.url, r.method)),
      `an upload request met a ${kind} fault and was retried`,
    );
  }
  t.true(
    met('reset', (r) => isChunkDownload(r.url, r.method)),
    'a chunk download was cut and resumed',
  );
  t.true(
    met('stall', (r) => isChunkDownload(r.url, r.method)),
    'a chunk download went silent and was resumed',
  );
});

test('chunk uploads that keep failing fail the backup with the reason, and leave no chunk object', async (t) => {
  const { proxy, node } = await faultyNode(t, 'persistent', { BACKUP_GCS_MAX_ATTEMPTS: '3' });
  const outcome = await roundTrip(node, 'persistent-1', proxy, (url, method) =>
    isChunkUpload(url, method) ? googleError(503) : undefined,
  );
  t.is(outcome.backup.status, 'FAILED');
  t.regex(
    outcome.backup.error,
    /backup-gcs: writing ".*chunk-.*" in bucket "persistent" at http:\/\/127\.0\.0\.1:\d+ failed: injected 503 \(HTTP 503\)$/,
  );
  t.deepEqual(
    (await objectNames(t.context.emulator, 'persistent', 'persistent-1/')).filter((name) => name.includes('chunk-')),
    [],
    'no chunk object exists: an upload that never finished leaves nothing',
  );
  const status = await node.request('GET', '/v1/backups/gcs/persistent-1');
  t.is(status.body.status, 'FAILED', 'never SUCCESS');
});

test('a chunk upload that never gets an answer fails the backup after the timeout, naming the variable', async (t) => {
  const { proxy, node } = await faultyNode(t, 'silent', { BACKUP_GCS_MAX_ATTEMPTS: '2' });
  const outcome = await roundTrip(node, 'silent-1', proxy, (url, method) =>
    isChunkUpload(url, method) ? { kind: 'stall', ms: 60_000 } : undefined,
  );
  t.is(outcome.backup.status, 'FAILED', 'not left STARTED');
  t.regex(
    outcome.backup.error,
    /backup-gcs: writing ".*chunk-.*" in bucket "silent" .* failed: .*network timeout at: .*; raise BACKUP_GCS_TIMEOUT_SECONDS for a slow link$/,
  );
});

test('a backup canceled while chunks are uploading ends CANCELED, with no chunk object left', async (t) => {
  const { proxy, node } = await faultyNode(t, 'cancel');
  let release = () => {};
  const reached = new Promise<void>((resolve) => {
    release = resolve;
  });
  // Chunk upload requests stall (and time out, and are retried) until the cancel.
  proxy.setPlan(({ url, method }) => {
    if (!isChunkUpload(url, method)) return undefined;
    release();
    return { kind: 'stall', ms: 900 };
  });
  await node.request('POST', '/v1/backups/gcs', { id: 'cancel-1', config: { CompressionLevel: 'NoCompression' } });
  await reached;
  const cancel = await node.request('DELETE', '/v1/backups/gcs/cancel-1');
  t.is(cancel.status, 204);
  const status = await waitForStatus(node, '/v1/backups/gcs/cancel-1');
  t.is(status.body.status, 'CANCELED');
  proxy.setPlan(() => undefined);
  t.deepEqual(
    (await objectNames(t.context.emulator, 'cancel', 'cancel-1/')).filter((name) => name.includes('chunk-')),
    [],
  );
});
