import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import {
  type GcsEmulator,
  readAll,
  type S3Server,
  seedClass,
  startGcsEmulator,
  startS3Server,
  startTestNode,
  waitForStatus,
} from '@strata/testing';
import anyTest, { type TestFn } from 'ava';
import { moduleDir } from './helpers.js';

const test = anyTest as TestFn<{ emulator: GcsEmulator }>;
const packageDir = (name: string) => dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));

test.before(async (t) => {
  t.context.emulator = await startGcsEmulator({ buckets: ['backups', 'other', 'all'] });
});
test.after.always((t) => t.context.emulator.stop());

/** Every object name in `bucket`, listed by Google's client directly (not through Strata). */
async function bucketNames(emulator: GcsEmulator, bucket: string): Promise<string[]> {
  const storage = new Storage({ apiEndpoint: emulator.endpoint, projectId: emulator.projectId });
  const [files] = await storage.bucket(bucket).getFiles();
  return files.map((file) => file.name);
}

test('a node with ENABLE_MODULES=backup-gcs backs up to GCS and restores every object', async (t) => {
  const { emulator } = t.context;
  const node = await startTestNode(t, {
    ENABLE_MODULES: moduleDir,
    ...emulator.env('backups'),
    BACKUP_GCS_PATH: 'strata',
  });
  const articles = await seedClass(node, 'Article', 3000, { shards: 2 });
  const authors = await seedClass(node, 'Author', 400);

  const meta = await node.request('GET', '/v1/meta');
  t.deepEqual(meta.body.modules['backup-gcs'], { bucket: 'backups', path: 'strata', endpoint: emulator.endpoint });

  const created = await node.request('POST', '/v1/backups/gcs', { id: 'nightly-1' });
  t.deepEqual(created.body, {
    id: 'nightly-1',
    backend: 'gcs',
    path: 'gs://backups/strata/nightly-1',
    status: 'STARTED',
    classes: ['Article', 'Author'],
  });
  const done = await waitForStatus(node, '/v1/backups/gcs/nightly-1');
  t.is(done.body.status, 'SUCCESS', done.body.error);

  const names = await bucketNames(emulator, 'backups');
  t.true(names.includes('strata/nightly-1/backup_config.json'), names.join(', '));
  t.true(
    names.some((name) => /^strata\/nightly-1\/.+\/Article\/chunk-/.test(name)),
    'chunks are under the prefix',
  );
  t.true(
    names.every((name) => name.startsWith('strata/nightly-1/')),
    'nothing outside the backup, no probe left',
  );

  for (const name of ['Article', 'Author']) await node.request('DELETE', `/v1/schema/${name}`);
  const restore = await node.request('POST', '/v1/backups/gcs/nightly-1/restore', {});
  t.is(restore.status, 200, JSON.stringify(restore.body));
  const restored = await waitForStatus(node, '/v1/backups/gcs/nightly-1/restore');
  t.is(restored.body.status, 'SUCCESS', restored.body.error);
  t.deepEqual(await readAll(node, 'Article'), articles);
  t.deepEqual(await readAll(node, 'Author'), authors);
});

test('config.Bucket and config.Path send one backup elsewhere; a missing bucket fails at creation', async (t) => {
  const { emulator } = t.context;
  const node = await startTestNode(t, { ENABLE_MODULES: moduleDir, ...emulator.env('backups') });
  await seedClass(node, 'Note', 50);

  const missing = await node.request('POST', '/v1/backups/gcs', { id: 'elsewhere', config: { Bucket: 'nope' } });
  t.is(missing.status, 500);
  t.deepEqual(missing.body, {
    error: [
      {
        message:
          `init uploader: backup-gcs: bucket "nope" at ${emulator.endpoint} does not exist. Create the bucket first ` +
          `(Strata never creates buckets), or set BACKUP_GCS_BUCKET (or the request's config.Bucket) to an existing one.`,
      },
    ],
  });

  const created = await node.request('POST', '/v1/backups/gcs', {
    id: 'elsewhere',
    config: { Bucket: 'other', Path: 'team-a/' },
  });
  t.is(created.body.path, 'gs://other/team-a/elsewhere');
  const done = await waitForStatus(node, '/v1/backups/gcs/elsewhere?bucket=other&path=team-a/');
  t.is(done.body.status, 'SUCCESS', done.body.error);
  t.true((await bucketNames(emulator, 'other')).includes('team-a/elsewhere/backup_config.json'));
});

test('with backup-s3, backup-gcs and backup-filesystem enabled at once, a node backs up to and restores from each', async (t) => {
  const { emulator } = t.context;
  const s3: S3Server = await startS3Server({ buckets: ['all'] });
  t.teardown(() => s3.stop());
  const directory = await mkdtemp(join(tmpdir(), 'strata-all-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const node = await startTestNode(t, {
    ENABLE_MODULES: [moduleDir, packageDir('@strata/backup-s3'), packageDir('@strata/backup-filesystem')].join(','),
    ...emulator.env('all'),
    ...s3.env('all'),
    BACKUP_FILESYSTEM_PATH: directory,
  });
  const articles = await seedClass(node, 'Article', 500);
  for (const backend of ['gcs', 's3', 'filesystem']) {
    const id = `to-${backend}`;
    const created = await node.request('POST', `/v1/backups/${backend}`, { id });
    t.is(created.status, 200, JSON.stringify(created.body));
    const done = await waitForStatus(node, `/v1/backups/${backend}/${id}`);
    t.is(done.body.status, 'SUCCESS', `${backend}: ${done.body.error}`);
  }
  for (const backend of ['gcs', 's3', 'filesystem']) {
    await node.request('DELETE', '/v1/schema/Article');
    await node.request('POST', `/v1/backups/${backend}/to-${backend}/restore`, {});
    const restored = await waitForStatus(node, `/v1/backups/${backend}/to-${backend}/restore`);
    t.is(restored.body.status, 'SUCCESS', `${backend}: ${restored.body.error}`);
    t.deepEqual(await readAll(node, 'Article'), articles, `restored from ${backend}`);
  }
});
