/**
 * SchemaStore on a real etcd: create, delete and list in creation order; one winner when two nodes
 * create a class at once; subscribers that follow changes, across an etcd restart too; values that
 * are no class record skipped and reported; createMany all or none (in one transaction, or in turn
 * above etcd's limits, undoing the first ones when a later one fails, but never a record someone
 * replaced); and schema changes refused within seconds while etcd is down.
 */
import { ClusterRecordInvalidError, ClusterUnavailableError, classKey, SchemaStore } from '@strata/core/cluster';
import test from 'ava';
import type { Etcd3 } from 'etcd3';
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
    ['createMany', () => store.createMany([record('During'), record('Also')])],
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

/**
 * `client` with its transactions counted: `before(n)` runs before the n-th commit (from 1), so a test
 * can change etcd between the transactions of one createMany.
 */
function counted(client: Etcd3, before: (n: number) => Promise<void> = async () => {}) {
  let commits = 0;
  const proxy = new Proxy(client, {
    get(target, name) {
      if (name !== 'if') return Reflect.get(target, name, target);
      return (...args: Parameters<Etcd3['if']>) => {
        const builder = target.if(...args);
        const commit = builder.commit.bind(builder);
        builder.commit = async () => {
          await before(++commits);
          return commit();
        };
        return builder;
      };
    },
  });
  return { client: proxy, commits: () => commits };
}

/** `count` records named `Class0`, `Class1`, ... */
const many = (count: number) => Array.from({ length: count }, (_, i) => record(`Class${i}`));

test('createMany() creates every class in one transaction: at one revision, seen by watchers together', async (t) => {
  const etcd = await freshEtcd(t);
  const client = await clientOf(t, etcd);
  const store = new SchemaStore(client);
  const seen: number[] = [];
  t.teardown(new SchemaStore(await clientOf(t, etcd)).subscribe(({ records }) => seen.push(records.length)));
  await waitFor(t, 'the first list', () => seen.length === 1, 3000);
  await store.createMany(many(5));
  t.deepEqual(names(await store.list()), names(many(5)), 'created at one revision: in key order');
  const revisions = await Promise.all(
    many(5).map(async (r) => (await client.get(classKey(r.definition.class)).exec()).kvs[0]?.create_revision),
  );
  t.is(new Set(revisions).size, 1, 'one transaction');
  await waitFor(t, 'the create', () => seen.at(-1) === 5, 3000);
  t.deepEqual(seen, [0, 5], 'never a part of them');
});

test('createMany() with one class that exists (in any case) creates none, and names it', async (t) => {
  const etcd = await freshEtcd(t);
  const store = new SchemaStore(await clientOf(t, etcd));
  await store.create(record('Mango'));
  const error = await t.throwsAsync(store.createMany([record('Apple'), record('MANGO', 'node-b'), record('Kiwi')]));
  t.is((error as { code?: string }).code, 'STRATA_DB_CLASS_EXISTS');
  t.is(error?.message, 'class name MANGO already exists');
  t.deepEqual(await store.list(), [record('Mango')], 'nothing created, the existing record untouched');
});

test('createMany() of 130 classes: two transactions (etcd takes 128 operations in one), every class created', async (t) => {
  const etcd = await freshEtcd(t);
  const { client, commits } = counted(await clientOf(t, etcd));
  const store = new SchemaStore(client);
  await store.createMany(many(130));
  t.is(commits(), 2);
  const listed = names(await store.list());
  t.deepEqual(listed.slice(0, 128), names(many(128)).sort(), 'the first transaction first, in key order');
  t.deepEqual(listed.slice(128), ['Class128', 'Class129']);
});

test('createMany() undoes the first 128 classes when the second transaction meets a class that exists', async (t) => {
  const etcd = await freshEtcd(t);
  const { client, commits } = counted(await clientOf(t, etcd));
  const store = new SchemaStore(client);
  await store.create(record('Class129', 'node-b'));
  await t.throwsAsync(store.createMany(many(130)), {
    code: 'STRATA_DB_CLASS_EXISTS',
    message: 'class name Class129 already exists',
  });
  t.is(commits(), 1 + 3, 'the one create, two transactions of the createMany, one undoing the first');
  t.deepEqual(await store.list(), [record('Class129', 'node-b')]);
});

test('createMany() undoing the first transaction keeps a record someone replaced meanwhile, and minds one deleted', async (t) => {
  const etcd = await freshEtcd(t);
  const other = await clientOf(t, etcd);
  // Before the createMany's second transaction (the first is the create below): another node's changes.
  const { client } = counted(await clientOf(t, etcd), async (n) => {
    if (n !== 3) return;
    await other.put(classKey('Class5')).value(JSON.stringify(record('Class5', 'node-b')));
    await other.delete().key(classKey('Class6'));
  });
  const store = new SchemaStore(client);
  await store.create(record('Class129', 'node-b'));
  await t.throwsAsync(store.createMany(many(130)), { code: 'STRATA_DB_CLASS_EXISTS' });
  t.deepEqual(
    (await store.list()).sort((a, b) => a.definition.class.localeCompare(b.definition.class)),
    [record('Class129', 'node-b'), record('Class5', 'node-b')],
    'the replaced record is kept, every other one undone',
  );
});

test('createMany() puts at most 1 MiB of records in a transaction: two of 800 KB, which etcd refuses in one request', async (t) => {
  const etcd = await freshEtcd(t);
  const raw = await clientOf(t, etcd);
  const { client, commits } = counted(raw);
  const store = new SchemaStore(client);
  const large = (name: string): ClassRecord => {
    const base = record(name);
    return { ...base, definition: { ...base.definition, description: 'x'.repeat(800 * 1024) } };
  };
  const both = [large('Large0'), large('Large1')];
  await t.throwsAsync(
    raw
      .if(classKey('Large0'), 'Create', '==', 0)
      .then(...both.map((r) => raw.put(classKey(r.definition.class)).value(JSON.stringify(r))))
      .commit(),
    { message: /too large/ },
  );
  await store.createMany(both);
  t.is(commits(), 2);
  t.deepEqual(names(await store.list()), ['Large0', 'Large1']);
});

test('createMany() of a class given twice (ignoring case) is a TypeError and creates nothing; of none, does nothing', async (t) => {
  const etcd = await freshEtcd(t);
  const { client, commits } = counted(await clientOf(t, etcd));
  const store = new SchemaStore(client);
  await t.throwsAsync(store.createMany([record('Apple'), record('Kiwi'), record('APPLE')]), {
    instanceOf: TypeError,
    message: 'createMany: class APPLE is given twice',
  });
  await store.createMany([]);
  t.is(commits(), 0);
  t.deepEqual(await store.list(), []);
});
