/**
 * SchemaStore on a real etcd: create, delete and list in creation order; one winner when two nodes
 * create a class at once; subscribers that follow changes, across an etcd restart too; values that
 * are no class record skipped and reported; and schema changes refused within seconds while etcd is
 * down.
 */
import { ClusterRecordInvalidError, ClusterUnavailableError, SchemaStore } from '@strata/core/cluster';
import test from 'ava';
import { clientOf, freshEtcd, Reported, waitFor } from './fixtures.js';

/** A class record, as @strata/core's db defines it. */
type ClassRecord = Parameters<SchemaStore['create']>[0];

/** A class record of `name` with one shard on `node`. */
function record(name: string, node = 'node-a'): ClassRecord {
  const definition = { class: name, properties: [] } as unknown as ClassRecord['definition'];
  return { definition, shards: [{ name: `${name}-shard`, node }] };
}

const names = (records: readonly ClassRecord[]) => records.map((r) => r.definition.class);

test('create, list and delete: classes listed in creation order, a name taken in any case refused', async (t) => {
  const etcd = await freshEtcd(t);
  const store = new SchemaStore(await clientOf(t, etcd));
  await store.create(record('Zebra'));
  await store.create(record('Apple'));
  await store.create(record('Mango'));
  t.deepEqual(names(await store.list()), ['Zebra', 'Apple', 'Mango']);
  t.deepEqual((await store.list())[0], record('Zebra'));
  const error = await t.throwsAsync(store.create(record('APPLE', 'node-b')));
  t.is((error as { code?: string }).code, 'STRATA_DB_CLASS_EXISTS');
  t.is(error?.message, 'class name APPLE already exists');
  t.true(await store.delete('apple'));
  t.false(await store.delete('Apple'));
  t.deepEqual(names(await store.list()), ['Zebra', 'Mango']);
  await store.create(record('Apple'));
  t.deepEqual(names(await store.list()), ['Zebra', 'Mango', 'Apple'], 'created again: last');
});

test('two nodes creating one class at once: exactly one wins, the other gets ClassExistsError', async (t) => {
  const etcd = await freshEtcd(t);
  const [one, two] = [new SchemaStore(await clientOf(t, etcd)), new SchemaStore(await clientOf(t, etcd))];
  for (let round = 0; round < 10; round++) {
    const name = `Race${round}`;
    const results = await Promise.allSettled([one.create(record(name, 'node-a')), two.create(record(name, 'node-b'))]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string }] : []));
    t.is(won.length, 1);
    t.deepEqual(
      lost.map((e) => e.code),
      ['STRATA_DB_CLASS_EXISTS'],
    );
    const winner = results[0]?.status === 'fulfilled' ? 'node-a' : 'node-b';
    const stored = (await one.list()).find((r) => r.definition.class === name);
    t.is(stored?.shards[0]?.node, winner, "the stored record is the winner's");
  }
});

test('subscribe() on a second client sees a create within 1 s, and still sees changes after etcd restarts', async (t) => {
  const etcd = await freshEtcd(t);
  const writer = new SchemaStore(await clientOf(t, etcd));
  const reported = new Reported();
  const reader = new SchemaStore(await clientOf(t, etcd), { onError: reported.onError });
  let latest: string[] | undefined;
  let calls = 0;
  const unsubscribe = reader.subscribe(({ records }) => {
    calls++;
    latest = names(records);
  });
  t.teardown(unsubscribe);
  await waitFor(t, 'the first list', () => latest !== undefined, 3000);
  t.deepEqual(latest, []);

  await writer.create(record('First'));
  const seen = await waitFor(t, 'the create', () => latest?.includes('First') === true, 1000);
  t.log(`create seen after ${seen} ms`);

  await etcd.restart();
  await writer.create(record('Second'));
  const afterRestart = await waitFor(t, 'a create after the restart', () => latest?.includes('Second') === true, 5000);
  t.log(`create after the restart seen after ${afterRestart} ms`);
  await writer.delete('First');
  const deleted = await waitFor(t, 'a delete after the restart', () => latest?.includes('First') === false, 5000);
  t.log(`delete after the restart seen after ${deleted} ms`);
  t.deepEqual(latest, ['Second']);
  const settled = calls;
  await new Promise((resolve) => setTimeout(resolve, 2500));
  t.is(calls, settled, 'a re-list that finds nothing new calls no one');
});

test('subscribe(): a burst of changes makes fewer calls than changes, ending with the full list', async (t) => {
  const etcd = await freshEtcd(t);
  const writer = new SchemaStore(await clientOf(t, etcd));
  const reader = new SchemaStore(await clientOf(t, etcd));
  const calls: string[][] = [];
  t.teardown(reader.subscribe(({ records }) => calls.push(names(records))));
  await waitFor(t, 'the first list', () => calls.length === 1, 3000);
  const created = Array.from({ length: 30 }, (_, i) => `Burst${i}`);
  await Promise.all(created.map((name) => writer.create(record(name))));
  await waitFor(t, 'all 30', () => calls.at(-1)?.length === 30, 3000);
  t.log(`30 concurrent creates made ${calls.length - 1} calls`);
  t.true(calls.length - 1 < 30);
  t.deepEqual([...(calls.at(-1) ?? [])].sort(), [...created].sort());
});

test('subscribe(): a listener that throws is reported, and the others still get the list', async (t) => {
  const etcd = await freshEtcd(t);
  const reported = new Reported();
  const store = new SchemaStore(await clientOf(t, etcd), { onError: reported.onError });
  const failing = store.subscribe(() => {
    throw new Error('listener broke');
  });
  t.teardown(failing);
  let latest: string[] = [];
  t.teardown(store.subscribe(({ records }) => (latest = names(records))));
  await store.create(record('Kept'));
  await waitFor(t, 'the create', () => latest.includes('Kept'), 3000);
  t.true(reported.errors.some((e) => e instanceof Error && e.message === 'listener broke'));
});

test('list() and subscribe() skip values that are no class record, and report them', async (t) => {
  const etcd = await freshEtcd(t);
  const client = await clientOf(t, etcd);
  const reported = new Reported();
  const store = new SchemaStore(client, { onError: reported.onError });
  await store.create(record('Good'));
  await client.put('strata/classes/garbage').value('{not json');
  await client.put('strata/classes/array').value('[1]');
  await client.put('strata/classes/other').value(JSON.stringify(record('Mismatch')));
  await client.put('strata/classes/noshards').value(JSON.stringify({ definition: { class: 'NoShards' } }));
  t.deepEqual(names(await store.list()), ['Good']);
  t.is(reported.errors.length, 4);
  t.true(reported.errors.every((e) => e instanceof ClusterRecordInvalidError));
  t.regex(String((reported.errors[0] as Error).message), /strata\/classes\/garbage.*not JSON/);
  let latest: string[] | undefined;
  t.teardown(store.subscribe(({ records }) => (latest = names(records))));
  await waitFor(t, 'the first list', () => latest !== undefined, 3000);
  t.deepEqual(latest, ['Good']);
  t.deepEqual(
    [...(await store.snapshot()).skipped].sort(),
    ['array', 'garbage', 'noshards', 'other'],
    'the damaged keys are named, so a node keeps the data of those classes',
  );
});

test('create() and delete() while etcd is down fail with ClusterUnavailableError within 5 s', async (t) => {
  const etcd = await freshEtcd(t);
  const store = new SchemaStore(await clientOf(t, etcd));
  await store.create(record('Before'));
  await etcd.kill();
  for (const [what, change] of [
    ['create', () => store.create(record('During'))],
    ['delete', () => store.delete('Before')],
  ] as const) {
    const start = Date.now();
    const error = await t.throwsAsync<Error>(change(), { instanceOf: ClusterUnavailableError });
    const took = Date.now() - start;
    t.log(`${what} refused after ${took} ms`);
    t.true(took < 5000);
    t.like(error, { code: 'STRATA_CLUSTER_UNAVAILABLE', statusCode: 503 });
    t.regex(error?.message ?? '', /^schema changes need etcd, which is unreachable: .*; retry when etcd is back$/);
  }
  await etcd.restart();
  t.deepEqual(names(await store.list()), ['Before'], 'nothing changed');
});
