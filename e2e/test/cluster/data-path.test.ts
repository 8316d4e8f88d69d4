import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClusterNode, startCluster, startEtcd } from '@strata/testing';
import test from 'ava';
import { Etcd3 } from 'etcd3';
import { ARTICLE, articles, eachLimited, importBatches, waitFor } from '../../src/cluster-helpers.js';

// What a data path brings to a cluster, and what it refuses to follow.
test("a single node's data path joining a cluster brings its classes, served by every node", async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  // An empty CLUSTER_ETCD_ENDPOINTS is unset: a single node.
  const solo = await cluster.startNode('solo', { CLUSTER_ETCD_ENDPOINTS: '' });
  t.is((await solo.request('POST', '/v1/schema', ARTICLE)).status, 200);
  const objects = articles(200);
  t.deepEqual(new Set(await importBatches(solo, objects)), new Set(['SUCCESS']));
  await solo.kill('SIGTERM');
  await solo.start({ CLUSTER_ETCD_ENDPOINTS: cluster.etcd.endpoint });
  const node1 = cluster.nodes[0] as ClusterNode;
  await waitFor('Article on node1', 2000, async () =>
    (await node1.request('GET', '/v1/schema/Article')).status === 200 ? true : undefined,
  );
  const read = await eachLimited(
    objects,
    16,
    async (o) => (await node1.request('GET', `/v1/objects/Article/${o.id}`)).body?.properties?.n === o.properties.n,
  );
  t.deepEqual(new Set(read), new Set([true]), 'every object, through the other node');
});

test('a data path of another cluster (a new or wiped etcd) is refused, and so is a damaged cluster.json', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const node1 = cluster.nodes[0] as ClusterNode;
  t.is((await node1.request('POST', '/v1/schema', ARTICLE)).status, 200);
  await node1.kill('SIGTERM');
  const fresh = await startEtcd();
  t.teardown(() => fresh.stop());
  const refused = await t.throwsAsync(node1.start({ CLUSTER_ETCD_ENDPOINTS: fresh.endpoint }));
  t.regex(refused?.message ?? '', /exited \(1\)/);
  t.regex(refused?.message ?? '', /belongs to cluster [\w-]+, but etcd at CLUSTER_ETCD_ENDPOINTS holds cluster/);

  await writeFile(join(node1.dataPath, 'cluster.json'), '{"version": 1, "clusterId": 7}');
  const damaged = await t.throwsAsync(node1.start());
  t.regex(damaged?.message ?? '', /cluster\.json is damaged/);
});

test('a class deleted and created again while a node was down is replaced on that node when it returns', async (t) => {
  const cluster = await startCluster({ nodes: 2 });
  t.teardown(() => cluster.stop());
  const [node1, node2] = cluster.nodes as [ClusterNode, ClusterNode];
  t.is((await node1.request('POST', '/v1/schema', ARTICLE)).status, 200);
  t.deepEqual(new Set(await importBatches(node1, articles(100))), new Set(['SUCCESS']));
  await node2.kill('SIGKILL');
  await waitFor('node2 UNAVAILABLE', 8000, async () => {
    const { body } = await node1.request('GET', '/v1/nodes');
    return body.nodes[1]?.status === 'UNAVAILABLE' ? true : undefined;
  });
  t.is((await node1.request('DELETE', '/v1/schema/Article')).status, 200);
  const again = await node1.request('POST', '/v1/schema', ARTICLE);
  t.is(again.body.shardingConfig.desiredCount, 1, 'one shard: one live node');
  const objects = articles(50);
  t.deepEqual(new Set(await importBatches(node1, objects)), new Set(['SUCCESS']));

  await node2.start();
  const { body } = await node2.request('GET', '/v1/nodes/Article?output=verbose');
  t.deepEqual(
    body.nodes.map((n: { name: string; stats: { shardCount: number; objectCount: number } }) => [n.name, n.stats]),
    [
      ['node1', { shardCount: 1, objectCount: 50 }],
      ['node2', { shardCount: 0, objectCount: 0 }],
    ],
  );
  const listed = await node2.request('GET', '/v1/objects?class=Article&limit=100');
  t.is(listed.body.objects.length, 50, 'only the new class objects; the old ones are gone');
});

test("a class whose record in etcd is damaged keeps its data on every node; the node's log says which key", async (t) => {
  const cluster = await startCluster({ nodes: 2 });
  t.teardown(() => cluster.stop());
  const [node1, node2] = cluster.nodes as [ClusterNode, ClusterNode];
  t.is((await node1.request('POST', '/v1/schema', ARTICLE)).status, 200);
  const objects = articles(100);
  t.deepEqual(new Set(await importBatches(node1, objects)), new Set(['SUCCESS']));
  const client = new Etcd3({ hosts: cluster.etcd.endpoint });
  t.teardown(() => client.close());
  await client.put('strata/classes/article').value('{"damaged": true');
  await sleep(2500); // one re-list period and then some
  t.regex(node1.output(), /etcd key \\"strata\/classes\/article\\" holds no valid record/);
  await node2.kill('SIGTERM');
  await node2.start();
  for (const node of cluster.nodes) {
    const read = await eachLimited(
      objects,
      16,
      async (o) => (await node.request('GET', `/v1/objects/Article/${o.id}`)).status,
    );
    t.deepEqual(new Set(read), new Set([200]), `every object still served through ${node.name}`);
  }
});
