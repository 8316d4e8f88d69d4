import { type StrataCluster, startCluster, startS3Server } from '@strata/testing';
import test from 'ava';
import weaviate, { type BackupConfig, type WeaviateObject } from 'weaviate-ts-client';
import { waitFor } from '../../src/cluster-helpers.js';

// Node hands this CommonJS package's `default` to a default import; its types expect the namespace.
const { client } = weaviate as unknown as typeof weaviate.default;
const clientFor = (url: string) => client({ scheme: 'http', host: url.replace('http://', '') });
type Client = ReturnType<typeof clientFor>;
/** A client for each of the three nodes of `cluster`. */
const clientsOf = (cluster: StrataCluster) =>
  cluster.nodes.map((node) => clientFor(node.url)) as [Client, Client, Client];

// Weaviate's own TypeScript client (REST, v2.2.0), unchanged, with each call through another node.
test("Weaviate's TypeScript client works through any node of a cluster", async (t) => {
  const cluster = await startCluster({ nodes: 3 });
  t.teardown(() => cluster.stop());
  const [one, two, three] = clientsOf(cluster);

  await one.schema
    .classCreator()
    .withClass({
      class: 'Paper',
      properties: [
        { name: 'title', dataType: ['text'] },
        { name: 'year', dataType: ['int'] },
      ],
    })
    .do();
  await waitFor('Paper on node3', 2000, async () => ((await three.schema.exists('Paper')) ? true : undefined));

  const papers = Array.from({ length: 90 }, (_, year) => ({
    class: 'Paper',
    properties: { title: `paper ${year}`, year },
  }));
  const batch = await two.batch
    .objectsBatcher()
    .withObjects(...papers)
    .do();
  t.is(batch.filter((result) => result.result?.errors === undefined).length, 90);

  for (const result of batch) {
    const fetched = await three.data
      .getterById()
      .withClassName('Paper')
      .withId(result.id as string)
      .do();
    t.deepEqual(fetched.properties, result.properties);
  }
  const seen: WeaviateObject[] = [];
  let after: string | undefined;
  for (;;) {
    let getter = one.data.getter().withClassName('Paper').withLimit(25);
    if (after !== undefined) getter = getter.withAfter(after);
    const page = (await getter.do()).objects ?? [];
    if (page.length === 0) break;
    seen.push(...page);
    after = page.at(-1)?.id;
  }
  t.deepEqual(
    seen.map((object) => object.id),
    batch.map((result) => result.id).sort(),
  );

  const [first] = batch;
  await three.data
    .updater()
    .withClassName('Paper')
    .withId(first?.id as string)
    .withProperties({ title: 'Renamed', year: 2027 })
    .do();
  t.is(
    (
      await two.data
        .getterById()
        .withClassName('Paper')
        .withId(first?.id as string)
        .do()
    ).properties?.title,
    'Renamed',
  );
  await one.data
    .deleter()
    .withClassName('Paper')
    .withId(first?.id as string)
    .do();
  t.false(
    await three.data
      .checker()
      .withClassName('Paper')
      .withId(first?.id as string)
      .do(),
  );

  await two.schema.classDeleter().withClassName('Paper').do();
  await waitFor('Paper gone from node1', 2000, async () => ((await one.schema.exists('Paper')) ? undefined : true));
});

test("Weaviate's TypeScript client backs up in zstd through one node and restores through another, waiting for each", async (t) => {
  const s3 = await startS3Server({ buckets: ['backups'] });
  t.teardown(() => s3.stop());
  const cluster = await startCluster({ nodes: 3, env: { ENABLE_MODULES: 'backup-s3', ...s3.env('backups') } });
  t.teardown(() => cluster.stop());
  const [one, two, three] = clientsOf(cluster);
  await one.schema
    .classCreator()
    .withClass({ class: 'Paper', properties: [{ name: 'year', dataType: ['int'] }] })
    .do();
  const papers = Array.from({ length: 120 }, (_, year) => ({ class: 'Paper', properties: { year } }));
  await one.batch
    .objectsBatcher()
    .withObjects(...papers)
    .do();

  const created = await two.backup
    .creator()
    .withBackend('s3')
    .withBackupId('client-backup')
    .withIncludeClassNames('Paper')
    // The client's typings (v2.2.0) predate Weaviate 1.35's zstd levels; it sends the config as given.
    .withConfig({ CompressionLevel: 'ZstdDefaultCompression' as BackupConfig['CompressionLevel'] })
    .withWaitForCompletion(true)
    .do();
  t.like(created, { id: 'client-backup', backend: 's3', status: 'SUCCESS', classes: ['Paper'] });
  t.like(await three.backup.createStatusGetter().withBackend('s3').withBackupId('client-backup').do(), {
    status: 'SUCCESS',
  });

  await one.schema.classDeleter().withClassName('Paper').do();
  const restored = await three.backup
    .restorer()
    .withBackend('s3')
    .withBackupId('client-backup')
    .withWaitForCompletion(true)
    .do();
  t.like(restored, { id: 'client-backup', backend: 's3', status: 'SUCCESS', classes: ['Paper'] });
  t.like(await one.backup.restoreStatusGetter().withBackend('s3').withBackupId('client-backup').do(), {
    status: 'SUCCESS',
  });
  const listed = await two.data.getter().withClassName('Paper').withLimit(200).do();
  t.deepEqual(
    (listed.objects ?? []).map((o: WeaviateObject) => (o.properties as { year: number }).year).sort((a, b) => a - b),
    papers.map((p) => p.properties.year),
  );
});
