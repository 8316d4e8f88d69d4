import { type ClusterNode, startCluster } from '@strata/testing';
import test from 'ava';
import { ARTICLE, type Article, articles, eachLimited, importBatches, waitFor } from '../../src/cluster-helpers.js';

async function setUp(t: { teardown(fn: () => Promise<void>): void }) {
  const cluster = await startCluster({ nodes: 3 });
  t.teardown(() => cluster.stop());
  const [node1, node2, node3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  const created = await node1.request('POST', '/v1/schema', ARTICLE);
  if (created.status !== 200) throw new Error(JSON.stringify(created.body));
  await waitFor('Article everywhere', 2000, async () => {
    for (const node of cluster.nodes) if ((await node.request('GET', '/v1/schema/Article')).status !== 200) return;
    return true;
  });
  const objects = articles(600);
  const statuses = await importBatches(node2, objects);
  if (statuses.some((status) => status !== 'SUCCESS')) throw new Error(`import: ${statuses}`);
  return { cluster, node1, node2, node3, objects };
}

test.serial(
  'a killed node: its objects fail quickly naming it and the shard, the others are served, and it comes back',
  async (t) => {
    const { node1, node2, node3, objects } = await setUp(t);
    await node3.kill('SIGKILL');

    const started = Date.now();
    const replies = await eachLimited(objects, 16, async (object) => ({
      object,
      reply: await node1.request('GET', `/v1/objects/Article/${object.id}`),
    }));
    const elapsed = Date.now() - started;
    const served = replies.filter(({ reply }) => reply.status === 200);
    const failed = replies.filter(({ reply }) => reply.status !== 200);
    t.log(`node3 down: ${served.length} served, ${failed.length} failed, in ${elapsed} ms`);
    t.true(served.length > 0 && failed.length > 0);
    t.true(served.every(({ object, reply }) => reply.body.properties.n === object.properties.n));
    for (const { reply } of failed) {
      t.is(reply.status, 500);
      t.regex(
        reply.body.error[0].message,
        /^node "node3" \(owner of shard "\w+" of class "Article"\) is unavailable: /,
      );
    }
    const lost = new Set(failed.map(({ object }) => object.id));

    // The batch answers per object: node3's fail, the others are written.
    const batch = await node2.request('POST', '/v1/batch/objects', {
      objects: objects.map((object) => ({ ...object, properties: { ...object.properties, title: 'again' } })),
    });
    const batchFailed = batch.body.filter((r: { result: { status: string } }) => r.result.status === 'FAILED');
    t.is(batchFailed.length, lost.size);
    t.true(batchFailed.every((r: { id: string }) => lost.has(r.id)));
    t.regex(batchFailed[0].result.errors.error[0].message, /node3/);

    // Membership lapses within the lease TTL (2 s here): node3 is UNAVAILABLE, node1 and node2 HEALTHY.
    await waitFor('node3 UNAVAILABLE', 6000, async () => {
      const { body } = await node1.request('GET', '/v1/nodes');
      return body.nodes.find((n: { name: string }) => n.name === 'node3')?.status === 'UNAVAILABLE' ? true : undefined;
    });
    const listing = await node1.request('GET', '/v1/objects?class=Article&limit=10');
    t.is(listing.status, 500, 'a page needs every node holding the class');
    t.regex(listing.body.error[0].message, /node3/);

    await node3.start();
    const back = await eachLimited(
      objects,
      16,
      async (object) => (await node1.request('GET', `/v1/objects/Article/${object.id}`)).status,
    );
    t.deepEqual(new Set(back), new Set([200]), 'every object served again after node3 restarted');
    const { body } = await node2.request('GET', '/v1/nodes');
    t.deepEqual(
      body.nodes.map((n: { status: string }) => n.status),
      ['HEALTHY', 'HEALTHY', 'HEALTHY'],
    );
  },
);

test.serial(
  'etcd lost: readiness 503 and schema changes refused while local reads and writes go on; recovered without restarts',
  async (t) => {
    const { cluster, node1, node2, objects } = await setUp(t);
    await cluster.etcd.kill();
    await waitFor('node1 not ready', 10_000, async () =>
      (await node1.request('GET', '/v1/.well-known/ready')).status === 503 ? true : undefined,
    );
    const refused = await node2.request('POST', '/v1/schema', { class: 'Later' });
    t.is(refused.status, 503);
    t.regex(refused.body.error[0].message, /etcd/);
    t.is((await node2.request('DELETE', '/v1/schema/Article')).status, 503);
    // Reads and writes between nodes go on: routing needs no etcd.
    const read = await eachLimited(
      objects.slice(0, 60),
      8,
      async (o) => (await node1.request('GET', `/v1/objects/Article/${o.id}`)).status,
    );
    t.deepEqual(new Set(read), new Set([200]));
    const [first] = objects as [Article];
    t.is((await node1.request('PATCH', `/v1/objects/Article/${first.id}`, { properties: { n: -1 } })).status, 204);

    await cluster.etcd.restart();
    for (const node of cluster.nodes) {
      await waitFor(`${node.name} ready again`, 15_000, async () =>
        (await node.request('GET', '/v1/.well-known/ready')).status === 200 ? true : undefined,
      );
    }
    const later = await waitFor('schema change accepted', 10_000, async () => {
      const reply = await node2.request('POST', '/v1/schema', { class: 'Later' });
      return reply.status === 200 ? reply : undefined;
    });
    t.is(later.body.class, 'Later');
    await waitFor('Later on node3', 2000, async () =>
      (await cluster.nodes[2]?.request('GET', '/v1/schema/Later'))?.status === 200 ? true : undefined,
    );
    t.is((await node1.request('GET', `/v1/objects/Article/${first.id}`)).body.properties.n, -1);
  },
);

test.serial('etcd restarted while nodes run: they stay members and keep serving', async (t) => {
  const { cluster, node1, node3, objects } = await setUp(t);
  await cluster.etcd.restart();
  await waitFor('all three HEALTHY', 15_000, async () => {
    const { body } = await node1.request('GET', '/v1/nodes');
    return body.nodes.every((n: { status: string }) => n.status === 'HEALTHY') && body.nodes.length === 3
      ? true
      : undefined;
  });
  const statuses = await importBatches(node3, articles(300));
  t.deepEqual(new Set(statuses), new Set(['SUCCESS']));
  const read = await eachLimited(
    objects,
    16,
    async (o) => (await node3.request('GET', `/v1/objects/Article/${o.id}`)).status,
  );
  t.deepEqual(new Set(read), new Set([200]));
});

test.serial(
  'a frozen node: UNHEALTHY while its lease lasts, its objects fail within the call timeout naming it',
  async (t) => {
    const cluster = await startCluster({ nodes: 2, leaseTtlSeconds: 30 });
    t.teardown(() => cluster.stop());
    const [node1, node2] = cluster.nodes as [ClusterNode, ClusterNode];
    t.is((await node1.request('POST', '/v1/schema', ARTICLE)).status, 200);
    const objects = articles(40);
    t.deepEqual(new Set(await importBatches(node1, objects)), new Set(['SUCCESS']));
    node2.signal('SIGSTOP');
    t.teardown(() => node2.signal('SIGCONT'));
    let started = Date.now();
    const { body } = await node1.request('GET', '/v1/nodes');
    t.log(`GET /v1/nodes answered after ${Date.now() - started} ms`);
    t.deepEqual(
      body.nodes.map((n: { name: string; status: string }) => `${n.name} ${n.status}`),
      ['node1 HEALTHY', 'node2 UNHEALTHY'],
    );
    const replies = await eachLimited(objects, 40, async (o) => node1.request('GET', `/v1/objects/Article/${o.id}`));
    const failed = replies.filter((reply) => reply.status !== 200);
    t.true(failed.length > 0 && failed.length < objects.length);
    t.regex(failed[0]?.body.error[0].message, /^node "node2" .*is unavailable: no answer within 5000 ms/);
    node2.signal('SIGCONT');
    started = Date.now();
    const back = await eachLimited(
      objects,
      8,
      async (o) => (await node1.request('GET', `/v1/objects/Article/${o.id}`)).status,
    );
    t.deepEqual(new Set(back), new Set([200]), 'served again once it goes on');
    t.log(`all served again ${Date.now() - started} ms after SIGCONT`);
  },
);
