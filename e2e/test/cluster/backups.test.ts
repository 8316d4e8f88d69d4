import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterNode, startCluster } from '@strata/testing';
import test from 'ava';
import { ARTICLE, articles, importBatches, waitFor } from '../../src/cluster-helpers.js';

// Until backups span the cluster, a node backs up only classes whose shards are all its own, and
// restores are refused: both say so rather than writing a backup that misses other nodes' shards.
test('on a cluster, a backup takes classes whose shards are all on the node asked; others and restores are refused 422', async (t) => {
  const backups = await mkdtemp(join(tmpdir(), 'strata-cluster-backups-'));
  t.teardown(() => rm(backups, { recursive: true, force: true }));
  const cluster = await startCluster({
    nodes: 2,
    env: { ENABLE_MODULES: 'backup-filesystem', BACKUP_FILESYSTEM_PATH: backups },
  });
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

  const spread = await owner.request('POST', '/v1/backups/filesystem', { id: 'spread', include: ['Article'] });
  t.is(spread.status, 422);
  t.regex(spread.body.error[0].message, /^class Article has shards on node\d: this version backs up only classes/);

  const local = await owner.request('POST', '/v1/backups/filesystem', { id: 'local', include: ['Local'] });
  t.is(local.status, 200, JSON.stringify(local.body));
  const done = await waitFor('backup local', 30_000, async () => {
    const status = await owner.request('GET', '/v1/backups/filesystem/local');
    return ['SUCCESS', 'FAILED'].includes(status.body.status) ? status.body : undefined;
  });
  t.is(done.status, 'SUCCESS', JSON.stringify(done));

  const restore = await owner.request('POST', '/v1/backups/filesystem/local/restore', {});
  t.is(restore.status, 422);
  t.regex(restore.body.error[0].message, /^restoring into a cluster is not supported by this version/);
});
