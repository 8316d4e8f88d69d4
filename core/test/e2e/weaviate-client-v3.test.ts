import test from 'ava';
import weaviate, { type WeaviateClient } from 'weaviate-client';
import { startBackupNode } from '../helpers/backups.js';
import type { TestNode } from '../helpers/node.js';

// Weaviate's v3 TypeScript client (3.12.1, the last line for Node 20), unchanged, against a Strata
// node over REST. Strata has no gRPC: skipInitChecks spares the client's gRPC health check, and only
// REST calls are made (collections, config, single inserts, backups).

async function clientFor(node: TestNode): Promise<WeaviateClient> {
  const { hostname, port } = new URL(node.url);
  const client = await weaviate.connectToCustom({
    httpHost: hostname,
    httpPort: Number(port),
    grpcHost: hostname,
    // Nothing listens there; the client opens its channel only for gRPC calls, which these tests make none of.
    grpcPort: 1,
    skipInitChecks: true,
  });
  return client;
}

test('the v3 client creates, lists, reads the config of and deletes collections', async (t) => {
  const node = await startBackupNode(t);
  const client = await clientFor(node);
  t.teardown(() => client.close());
  t.is((await client.getWeaviateVersion()).show(), '1.35.23', 'the version the client branches on');

  // The legacy class-level vector index, which create() (named vectors only) cannot set.
  await client.collections.createFromSchema({
    class: 'Paper',
    properties: [
      { name: 'title', dataType: ['text'] },
      { name: 'code', dataType: ['text'], tokenization: 'field', indexSearchable: false },
      { name: 'year', dataType: ['int'], indexRangeFilters: true },
    ],
    vectorIndexConfig: { efConstruction: 64, distance: 'dot' },
    invertedIndexConfig: { bm25: { k1: 1.5 } },
  });
  t.deepEqual(
    (await client.collections.listAll()).map((c) => c.name),
    ['Paper'],
  );
  t.true(await client.collections.exists('Paper'));

  const config = await client.collections.get('Paper').config.get();
  t.is(config.name, 'Paper');
  t.deepEqual(
    config.properties.map((p) => [p.name, p.dataType, p.tokenization, p.indexSearchable, p.indexRangeFilters]),
    [
      ['title', 'text', 'word', true, false],
      ['code', 'text', 'field', false, false],
      ['year', 'int', 'none', false, true],
    ],
  );
  t.like(config.vectorizers.default?.indexConfig, {
    type: 'hnsw',
    efConstruction: 64,
    distance: 'dot',
    maxConnections: 32,
    cleanupIntervalSeconds: 300,
  });
  t.like(config.invertedIndex, { cleanupIntervalSeconds: 60, bm25: { b: 0.75, k1: 1.5 } });
  t.like(config.replication, { factor: 1 });
  t.like(config.sharding, { desiredCount: 1, virtualPerPhysical: 128 });
  t.like(config.multiTenancy, { enabled: false });

  const id = await client.collections.get('Paper').data.insert({ title: 'On Backups', code: 'b-1', year: 2026 });
  t.like((await node.request('GET', `/v1/objects/Paper/${id}`)).body, { properties: { title: 'On Backups' } });

  await client.collections.delete('Paper');
  t.false(await client.collections.exists('Paper'));
  await client.collections.create({ name: 'Draft', properties: [{ name: 'body', dataType: 'text' }] });
  t.like((await client.collections.get('Draft').config.get()).properties[0], { name: 'body', tokenization: 'word' });
  await client.collections.deleteAll();
  t.deepEqual(await client.collections.listAll(), []);
});

test('the v3 client backs a collection up and restores it', async (t) => {
  const node = await startBackupNode(t);
  const client = await clientFor(node);
  t.teardown(() => client.close());
  await client.collections.create({ name: 'Paper', properties: [{ name: 'title', dataType: 'text' }] });
  await client.collections.get('Paper').data.insert({ title: 'kept' });
  const before = await client.collections.get('Paper').config.get();

  const created = await client.backup.create({
    backupId: 'v3-backup',
    backend: 'filesystem',
    includeCollections: ['Paper'],
    waitForCompletion: true,
  });
  t.like(created, { id: 'v3-backup', status: 'SUCCESS', collections: ['Paper'] });

  await client.collections.delete('Paper');
  const restored = await client.backup.restore({
    backupId: 'v3-backup',
    backend: 'filesystem',
    includeCollections: ['Paper'],
    waitForCompletion: true,
  });
  t.like(restored, { id: 'v3-backup', status: 'SUCCESS', collections: ['Paper'] });
  t.deepEqual(await client.collections.get('Paper').config.get(), before, 'the restored class reads back the same');
  const objects = await node.request('GET', '/v1/objects?class=Paper');
  t.deepEqual(
    objects.body.objects.map((o: { properties: unknown }) => o.properties),
    [{ title: 'kept' }],
  );
});
