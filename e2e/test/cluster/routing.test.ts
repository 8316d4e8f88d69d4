import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startCluster } from '@strata/testing';
import test from 'ava';
import { ARTICLE, articles, eachLimited, importBatches, pageAll, waitFor } from '../../src/cluster-helpers.js';

// Three real node processes on a real etcd: the schema on every node, objects spread over all three,
// any node serving any object, pages across the nodes as on one node.
test('a class created on node1 is seen on node3, its objects spread over all nodes and served by each', async (t) => {
  const cluster = await startCluster({ nodes: 3 });
  t.teardown(() => cluster.stop());
  const [node1, node2, node3] = cluster.nodes as [
    (typeof cluster.nodes)[0],
    (typeof cluster.nodes)[0],
    (typeof cluster.nodes)[0],
  ];

  const created = await node1.request('POST', '/v1/schema', ARTICLE);
  t.is(created.status, 200, JSON.stringify(created.body));
  t.is(created.body.shardingConfig.desiredCount, 3, 'one shard per node by default');
  const started = Date.now();
  // The stated bound: 2 s (the schema store's re-list period); a watch delivers it in milliseconds.
  await waitFor('Article on node3', 2000, async () =>
    (await node3.request('GET', '/v1/schema/Article')).status === 200 ? true : undefined,
  );
  t.log(`class visible on node3 after ${Date.now() - started} ms`);

  const objects = articles(3000);
  t.deepEqual(new Set(await importBatches(node2, objects)), new Set(['SUCCESS']));

  const nodes = await node1.request('GET', '/v1/nodes?output=verbose');
  t.is(nodes.status, 200);
  t.deepEqual(
    nodes.body.nodes.map((n: { name: string; status: string }) => [n.name, n.status]),
    [
      ['node1', 'HEALTHY'],
      ['node2', 'HEALTHY'],
      ['node3', 'HEALTHY'],
    ],
  );
  const counts = nodes.body.nodes.map((n: { stats: { objectCount: number } }) => n.stats.objectCount);
  t.log(`objects per node: ${counts.join(', ')}`);
  t.true(counts.every((count: number) => count > 0));
  t.is(
    counts.reduce((a: number, b: number) => a + b, 0),
    3000,
  );
  t.true(nodes.body.nodes.every((n: { shards: unknown[] }) => n.shards.length === 1));
  for (const node of cluster.nodes) {
    const own = nodes.body.nodes.find((n: { name: string }) => n.name === node.name).shards[0].name;
    t.deepEqual(await readdir(join(node.dataPath, 'article')), [own], `${node.name} opened its own shard only`);
  }

  for (const node of cluster.nodes) {
    const read = await eachLimited(objects, 32, async (object) => {
      const reply = await node.request('GET', `/v1/objects/Article/${object.id}`);
      return reply.status === 200 && reply.body.id === object.id && reply.body.properties.n === object.properties.n
        ? 'same'
        : `${reply.status} ${JSON.stringify(reply.body)}`;
    });
    t.deepEqual(new Set(read), new Set(['same']), `every object through ${node.name}`);
  }

  const paged = await pageAll(node3, 'Article', 250);
  const ids = objects.map((object) => object.id).sort();
  t.deepEqual(
    paged.map((object) => object.id),
    ids,
    'all 3,000 once, in id order',
  );
  const byOffset = await node3.request('GET', '/v1/objects?class=Article&offset=1234&limit=100');
  t.deepEqual(
    byOffset.body.objects.map((object: { id: string }) => object.id),
    ids.slice(1234, 1334),
  );
  const everything = await node2.request('GET', '/v1/objects?limit=50&offset=2990');
  t.deepEqual(
    everything.body.objects.map((object: { id: string }) => object.id),
    ids.slice(2990),
  );
});

test('single objects are created, replaced, merged and deleted through a node that does not own them', async (t) => {
  const cluster = await startCluster({ nodes: 2 });
  t.teardown(() => cluster.stop());
  const [node1, node2] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
  t.is((await node1.request('POST', '/v1/schema', ARTICLE)).status, 200);
  // The create answers once every live node applied it: objects sent at once are routed to nodes that know it.
  t.is((await node2.request('GET', '/v1/schema/Article')).status, 200);
  for (const object of articles(20)) {
    for (const [writer, reader] of [
      [node1, node2],
      [node2, node1],
    ] as const) {
      const id = object.id.replace(/^./, writer === node1 ? 'a' : 'b');
      const created = await writer.request('POST', '/v1/objects', { ...object, id });
      t.is(created.status, 200, JSON.stringify(created.body));
      t.is((await reader.request('HEAD', `/v1/objects/Article/${id}`)).status, 204);
      const replaced = await reader.request('PUT', `/v1/objects/Article/${id}`, {
        class: 'Article',
        id,
        properties: { title: 'replaced', n: 1 },
      });
      t.is(replaced.status, 200);
      t.is((await writer.request('PATCH', `/v1/objects/Article/${id}`, { properties: { n: 2 } })).status, 204);
      t.deepEqual((await reader.request('GET', `/v1/objects/Article/${id}`)).body.properties, {
        title: 'replaced',
        n: 2,
      });
      t.is((await reader.request('POST', '/v1/objects', { ...object, id })).status, 422, 'exists already');
      t.is((await writer.request('DELETE', `/v1/objects/Article/${id}`)).status, 204);
      t.is((await reader.request('GET', `/v1/objects/Article/${id}`)).status, 404);
    }
  }
  const created = await node2.request('POST', '/v1/objects', {
    class: 'Article',
    properties: { title: 'no id', n: 0 },
  });
  t.is(
    (await node1.request('GET', `/v1/objects/Article/${created.body.id}`)).status,
    200,
    'an id given here is routed',
  );
  // Objects the receiving node cannot route are answered as a single node answers them.
  const mixed = await node1.request('POST', '/v1/batch/objects', {
    objects: [
      { class: 'Nope', properties: {} },
      { class: 'Article', properties: { title: 1 } },
      { class: 'Article', properties: { title: 'fine', n: 3 } },
    ],
  });
  t.is(mixed.status, 200, JSON.stringify(mixed.body));
  const messages = mixed.body.map((r: { result: { status: string; errors?: { error: { message: string }[] } } }) =>
    r.result.status === 'SUCCESS' ? 'ok' : r.result.errors?.error[0]?.message,
  );
  t.is(messages[0], 'class "Nope" not found in schema');
  t.regex(messages[1], /title/);
  t.is(messages[2], 'ok');
  const invalidId = await node1.request('POST', '/v1/objects', { class: 'Article', id: 'not-a-uuid' });
  t.is(invalidId.status, 422, 'an invalid id is refused as on a single node');
});
