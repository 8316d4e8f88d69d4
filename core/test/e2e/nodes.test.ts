import test from 'ava';
import weaviate from 'weaviate-ts-client';
import { startNode } from '../helpers/node.js';

const { client } = weaviate as unknown as typeof weaviate.default;

async function seeded(t: Parameters<typeof startNode>[0]) {
  const node = await startNode(t);
  for (const [name, shards] of [
    ['Article', 3],
    ['Author', 1],
  ] as const) {
    await node.request('POST', '/v1/schema', {
      class: name,
      properties: [{ name: 'n', dataType: ['int'] }],
      shardingConfig: { desiredCount: shards },
    });
  }
  const objects = (className: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({
      class: className,
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      properties: { n: i },
    }));
  await node.request('POST', '/v1/batch/objects', { objects: [...objects('Article', 120), ...objects('Author', 7)] });
  // Overwrites and a delete: counts are of live objects, not of writes.
  await node.request('POST', '/v1/batch/objects', { objects: objects('Article', 10) });
  await node.request('DELETE', '/v1/objects/Author/00000000-0000-4000-8000-000000000000');
  return node;
}

test('GET /v1/nodes answers the node with its stats, and every shard when verbose', async (t) => {
  const node = await seeded(t);
  const minimal = await node.request('GET', '/v1/nodes');
  t.is(minimal.status, 200);
  t.is(minimal.body.nodes.length, 1);
  t.like(minimal.body.nodes[0], {
    name: 'node1',
    status: 'HEALTHY',
    version: '1.35.23',
    stats: { shardCount: 4, objectCount: 126 },
  });
  t.is(minimal.body.nodes[0].shards, undefined, 'minimal output lists no shards, as in Weaviate');

  const verbose = (await node.request('GET', '/v1/nodes?output=verbose')).body.nodes[0];
  t.is(verbose.shards.length, 4);
  const byClass = (name: string) => verbose.shards.filter((shard: { class: string }) => shard.class === name);
  t.is(byClass('Article').length, 3);
  t.is(
    byClass('Article').reduce((sum: number, shard: { objectCount: number }) => sum + shard.objectCount, 0),
    120,
  );
  t.like(byClass('Author')[0], { objectCount: 6, vectorIndexingStatus: 'READY', loaded: true });
  t.true(
    byClass('Article').every((shard: { objectCount: number }) => shard.objectCount > 0),
    'objects spread over the shards',
  );
});

test('GET /v1/nodes/{className} counts one class; an unknown class is 404, a bad output 422', async (t) => {
  const node = await seeded(t);
  const author = await node.request('GET', '/v1/nodes/author?output=verbose');
  t.like(author.body.nodes[0], { stats: { shardCount: 1, objectCount: 6 } });
  t.deepEqual(
    author.body.nodes[0].shards.map((shard: { class: string }) => shard.class),
    ['Author'],
  );
  const missing = await node.request('GET', '/v1/nodes/Nowhere');
  t.is(missing.status, 404);
  t.is(missing.body.error[0].message, 'class Nowhere not found');
  const bad = await node.request('GET', '/v1/nodes?output=everything');
  t.is(bad.status, 422);
  t.regex(bad.body.message, /output/);
});

test("Weaviate's TypeScript client reads the nodes", async (t) => {
  const node = await seeded(t);
  const url = new URL(node.url);
  const reply = await client({ scheme: 'http', host: url.host }).cluster.nodesStatusGetter().do();
  t.like(reply.nodes?.[0], { name: 'node1', status: 'HEALTHY', stats: { objectCount: 126, shardCount: 4 } });
});
