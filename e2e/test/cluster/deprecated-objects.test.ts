import { type ClusterNode, startCluster } from '@strata/testing';
import test from 'ava';
import { ARTICLE, articles, eachLimited, importBatches, waitFor } from '../../src/cluster-helpers.js';

// Weaviate's deprecated object paths without a class, and GraphQL's Get and Aggregate, on three real
// node processes: each lookup of an id goes to the node owning its shard of each class, and a count
// covers every node's shards.
test('objects found by id alone and counted through GraphQL from any node of a cluster', async (t) => {
  const cluster = await startCluster({ nodes: 3 });
  t.teardown(() => cluster.stop());
  const [node1, node2, node3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  for (const definition of [{ ...ARTICLE, class: 'Paper' }, ARTICLE]) {
    const created = await node1.request('POST', '/v1/schema', definition);
    t.is(created.status, 200, JSON.stringify(created.body));
  }
  await waitFor('both classes on node3', 2000, async () =>
    (await node3.request('GET', '/v1/schema/Article')).status === 200 ? true : undefined,
  );
  const objects = articles(300);
  t.deepEqual(new Set(await importBatches(node2, objects)), new Set(['SUCCESS']));

  for (const node of cluster.nodes) {
    const found = await eachLimited(objects.slice(0, 60), 16, async (object) => {
      const got = await node.request('GET', `/v1/objects/${object.id}`);
      const head = await node.request('HEAD', `/v1/objects/${object.id}`);
      return got.status === 200 && got.body.class === 'Article' && got.body.properties.n === object.properties.n
        ? head.status
        : `${got.status} ${JSON.stringify(got.body)}`;
    });
    t.deepEqual(new Set(found), new Set([204]), `every object by id alone through ${node.name}`);
    const counted = await node.request('POST', '/v1/graphql', {
      query: '{ Aggregate { Article { meta { count } } } }',
    });
    t.deepEqual(counted.body, { data: { Aggregate: { Article: [{ meta: { count: 300 } }] } } }, node.name);
  }

  const page = await node3.request('POST', '/v1/graphql', {
    query: '{ Get { Article(limit: 50, offset: 100) { n _additional { id } } } }',
  });
  const ids = objects.map((object) => object.id).sort();
  t.deepEqual(
    page.body.data.Get.Article.map((o: { _additional: { id: string } }) => o._additional.id),
    ids.slice(100, 150),
    'a GraphQL page merges every node part, as the REST list does',
  );

  const [first] = objects as [(typeof objects)[0]];
  const patched = await node3.request('PATCH', `/v1/objects/${first.id}`, { class: 'Article', properties: { n: -1 } });
  t.is(patched.status, 204, JSON.stringify(patched.body));
  t.is((await node1.request('GET', `/v1/objects/Article/${first.id}`)).body.properties.n, -1);
  const replaced = await node2.request('PUT', `/v1/objects/${first.id}`, {
    class: 'Article',
    properties: { title: 'replaced', n: -2 },
  });
  t.is(replaced.status, 200, JSON.stringify(replaced.body));

  // The same id in both classes: GET answers the first class created (Paper); DELETE removes both.
  await node1.request('POST', '/v1/objects', { class: 'Paper', id: first.id, properties: { title: 'paper', n: 0 } });
  t.is((await node2.request('GET', `/v1/objects/${first.id}`)).body.class, 'Paper');
  t.is((await node3.request('DELETE', `/v1/objects/${first.id}`)).status, 204);
  for (const name of ['Article', 'Paper']) {
    t.is((await node1.request('GET', `/v1/objects/${name}/${first.id}`)).status, 404, name);
  }
  t.is((await node2.request('HEAD', `/v1/objects/${first.id}`)).status, 404);

  // With a node down, a count would be short: it is an error naming the shards that answered.
  await node3.kill();
  const short = await node1.request('POST', '/v1/graphql', { query: '{ Aggregate { Article { meta { count } } } }' });
  t.is(short.status, 200);
  t.deepEqual(short.body.data, { Aggregate: { Article: [{ meta: { count: null } }] } });
  t.regex(short.body.errors[0].message, /^cannot count the objects of class Article: only 2 of its 3 shards answered/);
  // An object whose shard was on node3 is an error naming it, never a 404 that says it does not exist.
  const statuses = await eachLimited(objects.slice(1, 61), 16, async (object) => {
    const got = await node1.request('GET', `/v1/objects/${object.id}`);
    return got.status === 500 ? (JSON.stringify(got.body).includes('node3') ? 'node3 named' : 'unnamed') : got.status;
  });
  t.deepEqual([...new Set(statuses.map(String))].sort(), ['200', 'node3 named']);
});
