import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import weaviate, { ApiKey, type BackupConfig, type WeaviateObjectsGet } from 'weaviate-ts-client';
import { readAll, seed, startBackupNode } from '../helpers/backups.js';
import { startNode } from '../helpers/node.js';

// Node hands this CommonJS package's `default` to a default import; its types expect the namespace.
const { client } = weaviate as unknown as typeof weaviate.default;

// Weaviate's own TypeScript client (REST, v2.2.0), unchanged, against a Strata node.
const clientFor = (url: string, apiKey?: string) =>
  client({
    scheme: 'http',
    host: url.replace('http://', ''),
    ...(apiKey === undefined ? {} : { apiKey: new ApiKey(apiKey) }),
  });

test("Weaviate's TypeScript client manages classes and objects on a Strata node", async (t) => {
  const { url } = await startNode(t);
  const client = clientFor(url);

  await client.schema
    .classCreator()
    .withClass({
      class: 'Paper',
      properties: [
        { name: 'title', dataType: ['text'] },
        { name: 'year', dataType: ['int'] },
      ],
    })
    .do();
  t.true(await client.schema.exists('Paper'));
  t.is((await client.schema.classGetter().withClassName('Paper').do()).class, 'Paper');

  const created = await client.data
    .creator()
    .withClassName('Paper')
    .withProperties({ title: 'On Backups', year: 2026 })
    .do();
  const fetched = await client.data
    .getterById()
    .withClassName('Paper')
    .withId(created.id as string)
    .do();
  t.deepEqual(fetched.properties, { title: 'On Backups', year: 2026 });
  t.true(
    await client.data
      .checker()
      .withClassName('Paper')
      .withId(created.id as string)
      .do(),
  );

  const batch = await client.batch
    .objectsBatcher()
    .withObjects(
      { class: 'Paper', properties: { title: 'Second', year: 2025 } },
      { class: 'Paper', properties: { title: 'Broken', year: 'not a year' } },
    )
    .do();
  t.deepEqual(
    batch.map((result: WeaviateObjectsGet) => result.result?.errors?.error?.[0]?.message ?? 'ok'),
    ['ok', "invalid int property 'year' on class 'Paper': requires an integer, the given value is 'not a year'"],
  );

  const listed = await client.data.getter().withClassName('Paper').withLimit(10).do();
  t.is(listed.objects?.length, 2);

  await client.data
    .updater()
    .withClassName('Paper')
    .withId(created.id as string)
    .withProperties({ title: 'Renamed', year: 2027 })
    .do();
  t.is(
    (
      await client.data
        .getterById()
        .withClassName('Paper')
        .withId(created.id as string)
        .do()
    ).properties?.title,
    'Renamed',
  );

  await client.data
    .deleter()
    .withClassName('Paper')
    .withId(created.id as string)
    .do();
  t.false(
    await client.data
      .checker()
      .withClassName('Paper')
      .withId(created.id as string)
      .do(),
  );
  await client.schema.classDeleter().withClassName('Paper').do();
  t.false(await client.schema.exists('Paper'));
});

test("Weaviate's TypeScript client authenticates with an API key", async (t) => {
  const { url } = await startNode(t, {
    AUTHENTICATION_APIKEY_ENABLED: 'true',
    AUTHENTICATION_APIKEY_ALLOWED_KEYS: 'client-key',
  });
  t.deepEqual((await clientFor(url, 'client-key').schema.getter().do()).classes, []);
  await t.throwsAsync(clientFor(url, 'wrong-key').schema.getter().do(), { message: /usage error \(401\)/ });
});

test("Weaviate's TypeScript client backs up with a zstd CompressionLevel and restores, waiting for each", async (t) => {
  const node = await startBackupNode(t);
  const objects = await seed(node, 'Paper', 300, 2);
  const client = clientFor(node.url);
  const created = await client.backup
    .creator()
    .withBackend('filesystem')
    .withBackupId('client-zstd')
    // The client's typings (v2.2.0) predate Weaviate 1.35's zstd levels; it sends the config as given.
    .withConfig({ CompressionLevel: 'ZstdBestCompression' as BackupConfig['CompressionLevel'] })
    .withWaitForCompletion(true)
    .do();
  t.like(created, { id: 'client-zstd', backend: 'filesystem', status: 'SUCCESS', classes: ['Paper'] });
  const descriptor = JSON.parse(await readFile(join(node.backups, 'client-zstd', 'node1', 'backup.json'), 'utf8'));
  t.is(descriptor.compressionType, 'zstd');

  await client.schema.classDeleter().withClassName('Paper').do();
  const restored = await client.backup
    .restorer()
    .withBackend('filesystem')
    .withBackupId('client-zstd')
    .withWaitForCompletion(true)
    .do();
  t.like(restored, { id: 'client-zstd', status: 'SUCCESS', classes: ['Paper'] });
  t.deepEqual(await readAll(node, 'Paper'), objects);
});
