import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GcsEmulator, startFaultProxy, startGcsEmulator } from '@strata/testing';
import anyTest, { type TestFn } from 'ava';
import { loadGcs, rejection } from './helpers.js';

const test = anyTest as TestFn<{ emulator: GcsEmulator; dir: string }>;

test.before(async (t) => {
  t.context.emulator = await startGcsEmulator({ buckets: ['present', 'meta'] });
  t.context.dir = await mkdtemp(join(tmpdir(), 'strata-gcs-keys-'));
});
test.after.always(async (t) => {
  await t.context.emulator.stop();
  await rm(t.context.dir, { recursive: true, force: true });
});

/** Runs the access check with `env`; returns the error it failed with. */
async function accessError(env: Record<string, string>) {
  const { backend, close } = await loadGcs(env);
  try {
    return await rejection(backend.checkAccess());
  } finally {
    await close();
  }
}

test('the access check passes against an existing bucket and leaves no probe behind', async (t) => {
  const { backend, close, logs } = await loadGcs(t.context.emulator.env('present'));
  await backend.checkAccess();
  const left = [];
  for await (const object of backend.list('')) left.push(object.key);
  await close();
  t.deepEqual(left, []);
  t.true(logs.some((line) => line.message === 'backup-gcs signs requests with no credentials (anonymous requests)'));
});

test('a missing bucket fails the access check, naming the bucket and endpoint', async (t) => {
  const { emulator } = t.context;
  const error = await accessError(emulator.env('absent'));
  t.is(error.code, 'STRATA_GCS_BUCKET_NOT_FOUND');
  t.is(
    error.message,
    `backup-gcs: bucket "absent" at ${emulator.endpoint} does not exist. Create the bucket first (Strata never ` +
      `creates buckets), or set BACKUP_GCS_BUCKET (or the request's config.Bucket) to an existing one.`,
  );
});

for (const [title, write, reason] of [
  ['a missing credentials file', undefined, 'does not exist'],
  ['a credentials file that is not JSON', 'not json', 'is not JSON'],
  [
    'a JSON file that is not a Google key',
    '{"hello":1}',
    'has no "type" field, so it is not a Google credentials file',
  ],
] as const) {
  test(`${title} in GOOGLE_APPLICATION_CREDENTIALS fails the access check, saying what to fix`, async (t) => {
    const path = join(t.context.dir, `${title.replaceAll(' ', '-')}.json`);
    if (write !== undefined) await writeFile(path, write);
    const error = await accessError({ BACKUP_GCS_BUCKET: 'present', GOOGLE_APPLICATION_CREDENTIALS: path });
    t.is(error.code, 'STRATA_GCS_CREDENTIALS_FILE');
    t.is(
      error.message,
      `backup-gcs: GOOGLE_APPLICATION_CREDENTIALS names ${path}, which ${reason}. Point it at a readable service ` +
        'account (or external account) JSON key file, or unset it to use the other default credentials.',
    );
  });
}

test('a refused permission (403) fails the access check with the reason and what to grant', async (t) => {
  const { emulator } = t.context;
  const body = JSON.stringify({
    error: {
      code: 403,
      message: 'caller does not have storage.objects.create access',
      errors: [{ reason: 'forbidden', message: 'caller does not have storage.objects.create access' }],
    },
  });
  const proxy = await startFaultProxy(emulator.endpoint, ({ method }) =>
    method === 'POST'
      ? { kind: 'reply', status: 403, headers: { 'content-type': 'application/json' }, body }
      : undefined,
  );
  t.teardown(() => proxy.stop());
  const error = await accessError({ ...emulator.env('present'), STORAGE_EMULATOR_HOST: proxy.endpoint });
  t.is(error.code, 'STRATA_GCS_ACCESS_DENIED');
  t.is(
    error.message,
    `backup-gcs: bucket "present" at ${proxy.endpoint} refused the request (HTTP 403: caller does not have ` +
      'storage.objects.create access). Check that the credentials (no credentials (anonymous requests)) may list ' +
      'the bucket and create, read and delete objects in it (roles/storage.objectAdmin on the bucket).',
  );
});

test('an unreachable endpoint fails the access check, saying what to check', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const error = await accessError({
    ...t.context.emulator.env('present'),
    STORAGE_EMULATOR_HOST: `127.0.0.1:${port}`,
    BACKUP_GCS_MAX_ATTEMPTS: '1',
  });
  t.is(error.code, 'STRATA_GCS_UNREACHABLE');
  t.regex(
    error.message,
    new RegExp(
      `^backup-gcs: cannot reach bucket "present" at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED: .*\\)\\. ` +
        'Check STORAGE_EMULATOR_HOST and that the emulator is running\\.$',
    ),
  );
});

for (const [title, extra, message] of [
  ['an unset bucket', {}, 'BACKUP_GCS_BUCKET'],
  ['an emulator host with a path', { STORAGE_EMULATOR_HOST: 'localhost:9023/x' }, 'expected host:port without a path'],
  ['an emulator host with an ftp scheme', { STORAGE_EMULATOR_HOST: 'ftp://h' }, 'use http:// or https://'],
  ['a chunk size not a multiple of 256 KiB', { BACKUP_GCS_CHUNK_SIZE: '1000' }, 'expected 0, or a multiple of 256KiB'],
  ['a non-boolean BACKUP_GCS_USE_AUTH', { BACKUP_GCS_USE_AUTH: 'maybe' }, 'BACKUP_GCS_USE_AUTH'],
  ['a zero timeout', { BACKUP_GCS_TIMEOUT_SECONDS: '0' }, 'BACKUP_GCS_TIMEOUT_SECONDS'],
] as const) {
  test(`${title} is refused at start-up`, async (t) => {
    const env = { BACKUP_GCS_BUCKET: 'present', ...extra } as Record<string, string>;
    if (title === 'an unset bucket') delete env.BACKUP_GCS_BUCKET;
    const error = await rejection(loadGcs(env));
    t.true(error.message.includes(message), error.message);
  });
}

test('STORAGE_EMULATOR_HOST without a scheme gets http://, and /v1/meta shows bucket, path and endpoint', async (t) => {
  const { emulator } = t.context;
  const { backend, meta, close } = await loadGcs({
    ...emulator.env('meta'),
    STORAGE_EMULATOR_HOST: emulator.endpoint.replace('http://', ''),
    BACKUP_GCS_PATH: 'team',
  });
  await backend.checkAccess();
  await close();
  t.deepEqual(meta, { bucket: 'meta', path: 'team', endpoint: emulator.endpoint });
});
