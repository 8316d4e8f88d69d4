/**
 * The cluster's schema on one node, with etcd's side stood in for: a change that etcd records but
 * this node never sees says so after its timeout; a change while etcd is lost is refused before it
 * reaches etcd; a snapshot applies additions, deletions and replacements, and leaves a class whose
 * record is damaged alone.
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
import { ClusterUnavailableError, SchemaNotAppliedError } from '../../src/errors.js';
import { LsmStoreFactory } from '../../src/store/index.js';

/** A schema store that records creates and delivers only the snapshots a test pushes. */
class FakeStore {
  readonly created: ClassRecord[] = [];
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
  return { db, store, schema, warnings };
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
