import 'reflect-metadata';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readAll, type S3Server, seedClass, startS3Server, startTestNode, waitForStatus } from '@strata/testing';
import anyTest, { type TestFn } from 'ava';
import { moduleDir } from './helpers.js';

const test = anyTest as TestFn<{ server: S3Server }>;

test.before(async (t) => {
  t.context.server = await startS3Server({ buckets: ['backups', 'other'] });
});
test.after.always((t) => t.context.server.stop());

/** Every key in `bucket`, listed by the AWS SDK directly (not through Strata). */
async function bucketKeys(server: S3Server, bucket: string): Promise<string[]> {
  const client = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  const keys: string[] = [];
  for (let token: string | undefined, more = true; more; ) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key as string));
    token = page.NextContinuationToken;
    more = page.IsTruncated === true;
  }
  client.destroy();
  return keys;
}

test('a node with ENABLE_MODULES=backup-s3 backs up to S3 and restores every object', async (t) => {
  const { server } = t.context;
  const node = await startTestNode(t, {
    ENABLE_MODULES: moduleDir,
    ...server.env('backups'),
    BACKUP_S3_PATH: 'strata',
  });
  const articles = await seedClass(node, 'Article', 3000, { shards: 2 });
  const authors = await seedClass(node, 'Author', 400);

  const meta = await node.request('GET', '/v1/meta');
  t.deepEqual(meta.body.modules['backup-s3'], {
    endpoint: server.endpoint,
    bucket: 'backups',
    path: 'strata',
    useSSL: true,
    region: 'us-east-1',
  });
  t.false(JSON.stringify(meta.body).includes(server.secretAccessKey), 'no credential in /v1/meta');

  const created = await node.request('POST', '/v1/backups/s3', { id: 'nightly-1' });
  t.deepEqual(created.body, {
    id: 'nightly-1',
    backend: 's3',
    path: 's3://backups/strata/nightly-1',
    status: 'STARTED',
    classes: ['Article', 'Author'],
  });
  const done = await waitForStatus(node, '/v1/backups/s3/nightly-1');
  t.is(done.body.status, 'SUCCESS', done.body.error);

  const keys = await bucketKeys(server, 'backups');
  t.true(keys.includes('strata/nightly-1/backup_config.json'), keys.join(', '));
  t.true(
    keys.some((key) => /^strata\/nightly-1\/.+\/Article\/chunk-/.test(key)),
    'chunks are under the prefix',
  );
  t.true(
    keys.every((key) => key.startsWith('strata/nightly-1/')),
    'nothing outside the backup, no probe left',
  );

  for (const name of ['Article', 'Author']) await node.request('DELETE', `/v1/schema/${name}`);
  const restore = await node.request('POST', '/v1/backups/s3/nightly-1/restore', {});
  t.is(restore.status, 200, JSON.stringify(restore.body));
  const restored = await waitForStatus(node, '/v1/backups/s3/nightly-1/restore');
  t.is(restored.body.status, 'SUCCESS', restored.body.error);
  t.deepEqual(await readAll(node, 'Article'), articles);
  t.deepEqual(await readAll(node, 'Author'), authors);
  t.deepEqual(await server.openUploads('backups'), [], 'no multipart upload left open');
});

test('config.Bucket and config.Path send one backup elsewhere; a missing bucket fails at creation', async (t) => {
  const { server } = t.context;
  const node = await startTestNode(t, { ENABLE_MODULES: moduleDir, ...server.env('backups') });
  await seedClass(node, 'Note', 50);

  const missing = await node.request('POST', '/v1/backups/s3', { id: 'elsewhere', config: { Bucket: 'nope' } });
  t.is(missing.status, 500);
  t.deepEqual(missing.body, {
    error: [
      {
        message:
          `init uploader: backup-s3: bucket "nope" at ${server.endpoint} does not exist. Create the bucket first ` +
          `(Strata never creates buckets), or set BACKUP_S3_BUCKET (or the request's config.Bucket) to an existing one.`,
      },
    ],
  });

  const created = await node.request('POST', '/v1/backups/s3', {
    id: 'elsewhere',
    config: { Bucket: 'other', Path: 'team-a/' },
  });
  t.is(created.body.path, 's3://other/team-a/elsewhere');
  const done = await waitForStatus(node, '/v1/backups/s3/elsewhere?bucket=other&path=team-a/');
  t.is(done.body.status, 'SUCCESS', done.body.error);
  t.true((await bucketKeys(server, 'other')).includes('team-a/elsewhere/backup_config.json'));
});
