/**
 * The cluster's schema on one node, with etcd's side stood in for: a change that etcd records but
 * this node never sees says so after its timeout; a change while etcd is lost is refused before it
 * reaches etcd; a snapshot applies additions, deletions and replacements, and leaves a class whose
 * record is damaged alone; classes created together (a restore's) are checked before etcd sees them,
 * stored in one createMany, and opened from the shards held for them.
 */
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ClusterSchema } from '../../src/cluster/cluster-schema.js';
import type { Membership } from '../../src/cluster/membership.js';
import type { SchemaSnapshot, SchemaStore } from '../../src/cluster/schema-store.js';
import { type ClassRecord, Database } from '../../src/db/index.js';
import { ClassExistsError, ClusterUnavailableError, SchemaNotAppliedError } from '../../src/errors.js';
import { LsmStoreFactory } from '../../src/store/index.js';
import { snapshotInto } from '../db/helpers/staged.js';

/**
 * A schema store that records creates and delivers only the snapshots a test pushes; `createMany`
 * records each call and, when `delivers`, pushes the created records as etcd's next snapshot.
 */
class FakeStore {
  readonly created: ClassRecord[] = [];
  readonly createdMany: Array<readonly ClassRecord[]> = [];
  delivers = false;
  /** What createMany throws instead, when set. */
  refuses: Error | undefined;
  #listener: ((snapshot: SchemaSnapshot) => void) | undefined;
  async snapshot(): Promise<SchemaSnapshot> {
    return { records: [], skipped: [] };
  }
  subscribe(listener: (snapshot: SchemaSnapshot) => void): () => void {
    this.#listener = listener;
    return () => {};
  }
  async create(record: ClassRecord): Promise<void> {
    this.created.push(record);
  }
  async createMany(records: readonly ClassRecord[]): Promise<void> {
    if (this.refuses !== undefined) throw this.refuses;
    this.createdMany.push(records);
    if (this.delivers) this.push({ records, skipped: [] });
  }
  push(snapshot: SchemaSnapshot): void {
    this.#listener?.(snapshot);
  }
}

async function setUp(t: { teardown(fn: () => Promise<void>): void }, healthy = true) {
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-cluster-schema-'));
  t.teardown(() => rm(dataPath, { recursive: true, force: true }));
  const db = await Database.open({
    dataPath,
    nodeName: 'node1',
    ownShardsOnly: true,
    storeFactory: new LsmStoreFactory({}),
  });
  t.teardown(() => db.close());
  const store = new FakeStore();
  const membership = { healthy, self: { name: 'node1' }, members: () => [{ name: 'node1' }, { name: 'node2' }] };
  const warnings: string[] = [];
  const schema = new ClusterSchema(
    db,
    store as unknown as SchemaStore,
    membership as unknown as Membership,
    { warn: (_fields, message) => warnings.push(message) },
    200,
  );
  await schema.start();
  t.teardown(() => schema.stop());
  return { db, store, schema, warnings, dataPath };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 50));

test('a class recorded in etcd that this node never sees applied fails with SchemaNotAppliedError after the timeout', async (t) => {
  const { store, schema } = await setUp(t);
  const error = await t.throwsAsync(schema.createClass({ class: 'Article' }));
  t.true(SchemaNotAppliedError.is(error));
  t.regex(error?.message ?? '', /class Article is recorded in etcd, but this node has not applied it within 0\.2 s/);
  t.is(store.created.length, 1, 'recorded once, with one shard per live node');
  t.deepEqual(store.created[0]?.shards.map((shard) => shard.node).sort(), ['node1', 'node2']);
});

test('a schema change while etcd is lost is refused before it reaches etcd', async (t) => {
  const { store, schema } = await setUp(t, false);
  for (const change of [schema.createClass({ class: 'Article' }), schema.deleteClass('Article')]) {
    const error = await t.throwsAsync(change);
    t.true(ClusterUnavailableError.is(error));
  }
  t.is(store.created.length, 0);
});

test('snapshots add, replace and delete classes, and leave a class whose record is damaged alone', async (t) => {
  const { db, store } = await setUp(t);
  const record = (name: string, shard: string): ClassRecord => ({
    definition: { class: name, shardingConfig: { desiredCount: 1 } } as unknown as ClassRecord['definition'],
    shards: [{ name: shard, node: 'node1' }],
  });
  store.push({ records: [record('Kept', 'aaaa'), record('Moved', 'bbbb'), record('Gone', 'cccc')], skipped: [] });
  await settled();
  t.deepEqual(
    db.classes().map((c) => c.class),
    ['Kept', 'Moved', 'Gone'],
  );
  store.push({ records: [record('Moved', 'dddd')], skipped: ['kept'] });
  await settled();
  t.deepEqual(
    db
      .classes()
      .map((c) => c.class)
      .sort(),
    ['Kept', 'Moved'],
  );
  t.deepEqual(db.placement('Moved'), [{ name: 'dddd', node: 'node1' }], 'recreated elsewhere: replaced');
});

/** A record of class `name` with `shards` on node1 (and node2 for the ones named so). */
const placed = (name: string, shards: readonly string[], node = 'node1'): ClassRecord => ({
  definition: { class: name, shardingConfig: { desiredCount: shards.length } } as unknown as ClassRecord['definition'],
  shards: shards.map((shard) => ({ name: shard, node })),
});

test('createClasses stores every record in one createMany, as checked, and answers once this node applied them all', async (t) => {
  const { db, store, schema } = await setUp(t);
  store.delivers = true;
  await schema.createClasses([
    placed('article', ['AaaaBbbbCcc1', 'DdddEeeeFff2']),
    placed('Other', ['GgggHhhh'], 'node2'),
  ]);
  t.is(store.createdMany.length, 1, 'one call: one transaction');
  const [stored] = store.createdMany as [readonly ClassRecord[]];
  t.deepEqual(
    stored.map((record) => record.definition.class),
    ['Article', 'Other'],
    'normalized as applyClass will',
  );
  t.is(stored[0]?.definition.vectorIndexType, 'hnsw', 'defaults filled in');
  t.deepEqual(stored[1]?.shards, [{ name: 'GgggHhhh', node: 'node2' }], 'placement as given');
  t.deepEqual(
    db.classes().map((c) => c.class),
    ['Article', 'Other'],
  );
  t.deepEqual(db.shardsOf('Other'), [], "the other node's shard is not opened here");
  t.is(store.created.length, 0);
});

/** What createClasses refuses before anything reaches etcd. */
const REFUSED: ReadonlyArray<{
  readonly name: string;
  readonly healthy?: boolean;
  readonly records: readonly ClassRecord[];
  readonly code: string;
  readonly message?: RegExp;
}> = [
  {
    name: 'while etcd is lost',
    healthy: false,
    records: [placed('Article', ['AaaaBbbb'])],
    code: 'STRATA_CLUSTER_UNAVAILABLE',
  },
  {
    name: 'a class that exists on this node',
    records: [placed('Fresh', ['AaaaBbbb']), placed('existing', ['CcccDddd'])],
    code: 'STRATA_DB_CLASS_EXISTS',
    message: /^class name Existing already exists$/,
  },
  {
    name: 'a shard named ../x',
    records: [placed('Fresh', ['AaaaBbbb']), placed('Article', ['../x'])],
    code: 'STRATA_DB_CLASS_RECORD_INVALID',
    message: /shards\[0\]\.name is "\.\.\/x"/,
  },
  {
    name: 'a shard on a node of no valid name',
    records: [placed('Article', ['AaaaBbbb'], '../node')],
    code: 'STRATA_DB_CLASS_RECORD_INVALID',
    message: /shards\[0\]\.node/,
  },
  {
    name: "a shard count that is not the definition's",
    records: [{ ...placed('Article', ['AaaaBbbb']), shards: [] }],
    code: 'STRATA_DB_CLASS_RECORD_INVALID',
    message: /shards must list 1 to 64 shards, not 0/,
  },
  {
    name: 'a definition that is no class',
    records: [{ ...placed('Article', ['AaaaBbbb']), definition: { class: 'not a name' } } as unknown as ClassRecord],
    code: 'STRATA_DB_CLASS_RECORD_INVALID',
    message: /definition is not a valid class/,
  },
];

for (const { name, healthy, records, code, message } of REFUSED) {
  test(`createClasses refuses ${name} before etcd sees any record`, async (t) => {
    const { db, store, schema } = await setUp(t, healthy ?? true);
    if (healthy !== false) await db.applyClass(placed('Existing', ['ZzzzYyyy']));
    const error = await t.throwsAsync(schema.createClasses(records));
    t.is((error as { code?: string }).code, code);
    if (message !== undefined) t.regex(error?.message ?? '', message);
    t.deepEqual(store.createdMany, []);
  });
}

test("createClasses passes the store's refusal on (a class in etcd), waiting for nothing", async (t) => {
  const { store, schema } = await setUp(t);
  store.refuses = new ClassExistsError('Article');
  // Had it waited, it would fail with SchemaNotAppliedError: the class is never applied here.
  await t.throwsAsync(schema.createClasses([placed('Article', ['AaaaBbbb'])]), { code: 'STRATA_DB_CLASS_EXISTS' });
});

test('createClasses of classes this node never sees applied fails with SchemaNotAppliedError after the timeout', async (t) => {
  const { store, schema } = await setUp(t);
  const error = await t.throwsAsync(schema.createClasses([placed('Article', ['AaaaBbbb'])]));
  t.true(SchemaNotAppliedError.is(error));
  t.is(store.createdMany.length, 1);
});

test('createClasses of classes held here opens the held shards: the restored objects are served', async (t) => {
  const { db, store, schema } = await setUp(t);
  store.delivers = true;
  // Another node's data to restore from: a class of two shards with objects.
  const sourcePath = await mkdtemp(join(tmpdir(), 'strata-cluster-schema-source-'));
  t.teardown(() => rm(sourcePath, { recursive: true, force: true }));
  const source = await Database.open({
    dataPath: sourcePath,
    nodeName: 'node1',
    storeFactory: new LsmStoreFactory({}),
  });
  t.teardown(() => source.close());
  await source.createClass({ class: 'Article', shardingConfig: { desiredCount: 2 } });
  for (let n = 0; n < 10; n++) await source.createObject({ class: 'Article', properties: {} });
  const [staged] = await snapshotInto(source, ['Article'], join(sourcePath, 'staging'), join(sourcePath, 'restored'));
  if (staged === undefined) throw new Error('no snapshot');

  await db.holdRestored([staged]);
  await schema.createClasses([
    { definition: staged.definition, shards: staged.shards.map(({ name, node }) => ({ name, node })) },
  ]);
  t.is((await db.listObjects({ className: 'Article', limit: 100 })).length, 10);
});
