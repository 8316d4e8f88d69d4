import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterNode, startCluster, startS3Server } from '@strata/testing';
import test from 'ava';
import { ARTICLE, articles, importBatches, waitFor } from '../../src/cluster-helpers.js';

// Until backups span the cluster, a node backs up only classes whose shards are all its own, and
// restores are refused: both say so rather than writing a backup that misses other nodes' shards.

async function finished(node: ClusterNode, path: string) {
  return waitFor(path, 30_000, async () => {
    const { body } = await node.request('GET', path);
    return ['SUCCESS', 'FAILED', 'CANCELED'].includes(body.status) ? body : undefined;
  });
}

test('on a cluster, a backup takes classes whose shards are all on the node asked; others and restores are refused 422', async (t) => {
  const s3 = await startS3Server({ buckets: ['cluster'] });
  t.teardown(() => s3.stop());
  const cluster = await startCluster({ nodes: 2, env: { ENABLE_MODULES: 'backup-s3', ...s3.env('cluster') } });
  t.teardown(() => cluster.stop());
  const [node1] = cluster.nodes as [ClusterNode];
  t.is((await node1.request('POST', '/v1/schema', ARTICLE)).status, 200);
  t.is(
    (await node1.request('POST', '/v1/schema', { class: 'Local', shardingConfig: { desiredCount: 1 } })).status,
    200,
  );
  t.deepEqual(new Set(await importBatches(node1, articles(50))), new Set(['SUCCESS']));
  const { body } = await node1.request('GET', '/v1/nodes/Local?output=verbose');
  const ownerName = body.nodes.find((n: { shards: unknown[] }) => n.shards.length === 1).name;
  const owner = cluster.nodes.find((n) => n.name === ownerName) as ClusterNode;

  const spread = await owner.request('POST', '/v1/backups/s3', { id: 'spread', include: ['Article'] });
  t.is(spread.status, 422);
  t.regex(spread.body.error[0].message, /^class Article has shards on node\d: this version backs up only classes/);

  const local = await owner.request('POST', '/v1/backups/s3', { id: 'local', include: ['Local'] });
  t.is(local.status, 200, JSON.stringify(local.body));
  t.is((await finished(owner, '/v1/backups/s3/local')).status, 'SUCCESS');

  const restore = await owner.request('POST', '/v1/backups/s3/local/restore', {});
  t.is(restore.status, 422);
  t.regex(restore.body.error[0].message, /^restoring into a cluster is not supported by this version/);
});

test("the filesystem provider on a cluster of more than one node is refused with Weaviate's 422; on one node it works", async (t) => {
  const backups = await mkdtemp(join(tmpdir(), 'strata-cluster-backups-'));
  t.teardown(() => rm(backups, { recursive: true, force: true }));
  const env = { ENABLE_MODULES: 'backup-filesystem', BACKUP_FILESYSTEM_PATH: backups };
  const cluster = await startCluster({ nodes: 1, env });
  t.teardown(() => cluster.stop());
  const [node1] = cluster.nodes as [ClusterNode];
  t.is((await node1.request('POST', '/v1/schema', ARTICLE)).status, 200);
  t.is((await node1.request('POST', '/v1/backups/filesystem', { id: 'alone' })).status, 200);
  t.is((await finished(node1, '/v1/backups/filesystem/alone')).status, 'SUCCESS', 'one node: its own disk will do');

  await cluster.startNode('node2');
  for (const [method, path, body] of [
    ['POST', '/v1/backups/filesystem', { id: 'two' }],
    ['POST', '/v1/backups/filesystem/alone/restore', {}],
  ] as const) {
    const reply = await node1.request(method, path, body);
    t.is(reply.status, 422, path);
    t.deepEqual(reply.body, {
      error: [{ message: 'local filesystem backend is not viable for backing up a node cluster, try s3 or gcs' }],
    });
  }
});
