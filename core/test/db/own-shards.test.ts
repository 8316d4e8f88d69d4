/**
 * A node of a cluster (ownShardsOnly): classes placed elsewhere (applyClass), only this node's shards
 * opened, objects of other nodes' shards refused with where to send them, and records from elsewhere
 * checked before any of them reaches the disk.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { type ClassRecord, Database } from '../../src/db/index.js';
import { ShardNotLocalError } from '../../src/errors.js';
import { LsmStoreFactory } from '../../src/store/index.js';

type Teardown = { teardown(fn: () => Promise<void>): void };

async function tempDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-own-shards-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A Database on `dataPath` for `nodeName`; closed by the test, or at teardown (a second close is harmless). */
async function openNode(t: Teardown, dataPath: string, nodeName = 'node2', ownShardsOnly = true) {
  const warnings: object[] = [];
  const db = await Database.open({
    dataPath,
    nodeName,
    ownShardsOnly,
    storeFactory: new LsmStoreFactory({}),
    warn: (fields) => warnings.push(fields),
  });
  t.teardown(() => db.close());
  return { db, warnings };
}

const definition = (name: string, desiredCount: number) => ({
  class: name,
  properties: [{ name: 'n', dataType: ['int'] }],
  shardingConfig: { desiredCount },
});

/** Weaviate's shard names are 12 letters and digits. */
const placed: ClassRecord = {
  definition: definition('Placed', 3) as unknown as ClassRecord['definition'],
  shards: [
    { name: 'AaaaBbbbCcc1', node: 'node1' },
    { name: 'DdddEeeeFff2', node: 'node2' },
    { name: 'GgggHhhhIii3', node: 'node3' },
  ],
};
const LOCAL = 'DdddEeeeFff2';

/** Ids that map to node2's shard, and ids that map to another node's, `count` of each. */
function idsByOwner(db: Database, count: number): { local: string[]; remote: string[] } {
  const local: string[] = [];
  const remote: string[] = [];
  while (local.length < count || remote.length < count) {
    const id = randomUUID();
    const owner = db.ownerOf('Placed', id);
    if (owner.node === 'node2') {
      if (local.length < count) local.push(id);
    } else if (remote.length < count) remote.push(id);
  }
  return { local, remote };
}

test('a cluster node opens only its own shard of a class placed elsewhere, serves it, and refuses the rest', async (t) => {
  const dataPath = await tempDir(t);
  const { db } = await openNode(t, dataPath);
  t.true(await db.applyClass(placed));
  t.deepEqual(await readdir(join(dataPath, 'placed')), [LOCAL], "only node2's shard has a directory");
  t.deepEqual(
    db.shardsOf('Placed').map((shard) => shard.name),
    [LOCAL],
  );
  t.deepEqual(db.placement('Placed'), placed.shards);
  t.like(db.classRecords(), [{ definition: { class: 'Placed' }, shards: placed.shards }]);

  const { local, remote } = idsByOwner(db, 20);
  for (const [n, id] of local.entries()) await db.createObject({ class: 'Placed', id, properties: { n } });
  for (const id of local) t.is((await db.getObject('Placed', id))?.id, id);
  const listed = await db.listObjects({ className: 'Placed', limit: 100 });
  t.deepEqual(
    listed.map((object) => object.id),
    [...local].sort(),
  );
  t.deepEqual(await db.shardStats('Placed'), [{ class: 'Placed', name: LOCAL, node: 'node2', objectCount: 20 }]);
  t.deepEqual(await db.shardStats(), await db.shardStats('Placed'));

  // Every write landed in the shard ownerOf named.
  const shard = db.shardsOf('Placed')[0];
  const stored: string[] = [];
  for await (const entry of shard?.objects.scan() ?? []) stored.push(entry.key.toString('hex'));
  t.deepEqual(
    stored,
    [...local].sort().map((id) => id.replaceAll('-', '')),
  );

  for (const id of remote.slice(0, 5)) {
    const owner = db.ownerOf('Placed', id);
    const expected = {
      instanceOf: ShardNotLocalError,
      code: 'STRATA_DB_SHARD_NOT_LOCAL',
      message: `shard ${owner.name} of class Placed is on node ${owner.node}, not on this node: the request must go to node ${owner.node}`,
    };
    await t.throwsAsync(db.createObject({ class: 'Placed', id, properties: {} }), expected);
    await t.throwsAsync(db.getObject('Placed', id), expected);
    await t.throwsAsync(db.deleteObject('Placed', id), expected);
    await t.throwsAsync(db.updateObject('Placed', id, { properties: {} }, 'replace'), expected);
  }

  // Validation comes first: the errors of a single node, wherever the id would map.
  await t.throwsAsync(db.createObject({ class: 'Placed', id: 'nope', properties: {} }), {
    code: 'STRATA_DB_OBJECT_ID_INVALID',
  });
  await t.throwsAsync(db.createObject({ class: 'Nowhere', id: remote[0], properties: {} }), {
    code: 'STRATA_DB_CLASS_NOT_FOUND',
  });
  await t.throwsAsync(db.createObject({ class: 'Placed', id: remote[0], properties: { n: 'x' } }), {
    code: 'STRATA_DB_PROPERTY_VALUE_INVALID',
  });
  await t.throwsAsync(db.updateObject('Placed', 'nope', {}, 'merge'), { code: 'STRATA_DB_OBJECT_NOT_FOUND' });
  t.is(await db.getObject('Placed', 'nope'), undefined);
  t.false(await db.deleteObject('Placed', 'nope'));
  t.throws(() => db.ownerOf('Placed', 'nope'), { code: 'STRATA_DB_OBJECT_ID_INVALID' });
  t.throws(() => db.ownerOf('Nowhere', randomUUID()), { code: 'STRATA_DB_CLASS_NOT_FOUND' });
  t.throws(() => db.placement('Nowhere'), { code: 'STRATA_DB_CLASS_NOT_FOUND' });
  t.is((await db.listObjects({ className: 'Placed', limit: 100 })).length, 20, 'nothing refused was written');
});

test("a batch on a cluster node writes its own shard's objects and refuses the others one by one", async (t) => {
  const dataPath = await tempDir(t);
  const { db } = await openNode(t, dataPath);
  await db.applyClass(placed);
  const { local, remote } = idsByOwner(db, 10);
  const ids = local.flatMap((id, i) => [id, remote[i] as string]);
  const results = await db.batchObjects(ids.map((id, n) => ({ class: 'Placed', id, properties: { n } })));
  t.is(results.length, 20);
  for (const [i, result] of results.entries()) {
    const id = ids[i] as string;
    if (local.includes(id)) t.like(result, { object: { id } });
    else {
      const owner = db.ownerOf('Placed', id);
      t.true('error' in result && ShardNotLocalError.is(result.error), `object ${i} is refused`);
      t.true('error' in result && result.error.message.includes(`shard ${owner.name} of class Placed`));
    }
  }
  t.is((await db.listObjects({ className: 'Placed', limit: 100 })).length, 10);
});

test('a cluster node restarts with the whole placement recorded and only its own shard open', async (t) => {
  const dataPath = await tempDir(t);
  const first = await openNode(t, dataPath);
  await first.db.applyClass(placed);
  const { local } = idsByOwner(first.db, 5);
  for (const id of local) await first.db.createObject({ class: 'Placed', id, properties: {} });
  await first.db.close();

  const schema = JSON.parse(await readFile(join(dataPath, 'schema.json'), 'utf8'));
  t.deepEqual(schema.classes[0].shards, placed.shards, 'schema.json records every shard and its node');

  const { db, warnings } = await openNode(t, dataPath);
  t.deepEqual(warnings, [], 'nothing is taken for an orphan');
  t.false((await readdir(dataPath)).includes('.orphaned'));
  t.deepEqual(await readdir(join(dataPath, 'placed')), [LOCAL]);
  t.deepEqual(
    db.shardsOf('Placed').map((shard) => shard.name),
    [LOCAL],
  );
  t.deepEqual(db.placement('Placed'), placed.shards);
  for (const id of local) t.is((await db.getObject('Placed', id))?.id, id);
  t.deepEqual(await db.shardStats('Placed'), [{ class: 'Placed', name: LOCAL, node: 'node2', objectCount: 5 }]);
});

test('a class all of whose shards are elsewhere has no directory, survives a restart, and deletes cleanly', async (t) => {
  const dataPath = await tempDir(t);
  const first = await openNode(t, dataPath, 'node4');
  t.true(await first.db.applyClass(placed));
  t.false((await readdir(dataPath)).includes('placed'));
  t.deepEqual(first.db.shardsOf('Placed'), []);
  t.deepEqual(await first.db.listObjects({ className: 'Placed', limit: 10 }), []);
  t.deepEqual(await first.db.shardStats('Placed'), []);
  await first.db.close();

  const { db, warnings } = await openNode(t, dataPath, 'node4');
  t.deepEqual(warnings, []);
  t.deepEqual(db.placement('Placed'), placed.shards);
  const staging = await tempDir(t);
  t.deepEqual(await db.snapshotClasses(['Placed'], staging), [{ definition: db.getClass('Placed'), shards: [] }]);
  t.true(await db.deleteClass('Placed'));
  t.deepEqual(db.classRecords(), []);
});

test("a cluster node's snapshot and deletion cover its own shard only", async (t) => {
  const dataPath = await tempDir(t);
  const { db } = await openNode(t, dataPath);
  await db.applyClass(placed);
  const { local } = idsByOwner(db, 3);
  for (const id of local) await db.createObject({ class: 'Placed', id, properties: {} });
  const staging = await tempDir(t);
  const [snapshot] = await db.snapshotClasses(['Placed'], staging);
  t.deepEqual(
    snapshot?.shards.map((shard) => [shard.name, shard.node]),
    [[LOCAL, 'node2']],
  );
  t.true(await db.deleteClass('Placed'));
  t.false((await readdir(dataPath)).includes('placed'));
});

test('applyClass of a class that exists resolves false and changes nothing', async (t) => {
  const dataPath = await tempDir(t);
  const { db } = await openNode(t, dataPath);
  await db.createClass(definition('Made', 1));
  t.false(await db.applyClass({ ...placed, definition: { ...placed.definition, class: 'made' } }));
  t.is(db.placement('Made').length, 1);
  t.true(await db.applyClass(placed));
  const other = { ...placed, shards: placed.shards.map((shard) => ({ ...shard, node: 'node2' })) };
  t.false(await db.applyClass(other));
  t.deepEqual(db.placement('Placed'), placed.shards);
  t.deepEqual(await readdir(join(dataPath, 'placed')), [LOCAL]);
});

/** Hostile records: each is refused naming its field, whichever node would have opened the bad shard. */
const shardsWith = (second: unknown) => [placed.shards[0], second, placed.shards[2]];
const hostile: ReadonlyArray<[string, unknown, string]> = [
  ['a shard name climbing out', { ...placed, shards: shardsWith({ name: '../x', node: 'node2' }) }, 'shards[1].name'],
  [
    'a shard name with a separator',
    { ...placed, shards: shardsWith({ name: 'a/b', node: 'node2' }) },
    'shards[1].name',
  ],
  ['an empty shard name', { ...placed, shards: shardsWith({ name: '', node: 'node2' }) }, 'shards[1].name'],
  ['a 65-character name', { ...placed, shards: shardsWith({ name: 'a'.repeat(65), node: 'node2' }) }, 'shards[1].name'],
  ['a shard name not a string', { ...placed, shards: shardsWith({ name: 7, node: 'node2' }) }, 'shards[1].name'],
  [
    'a repeated shard name',
    { ...placed, shards: shardsWith({ name: 'AaaaBbbbCcc1', node: 'node2' }) },
    'shards[1].name',
  ],
  [
    'a name repeated in another case',
    { ...placed, shards: shardsWith({ name: 'aaaabbbbccc1', node: 'node2' }) },
    'shards[1].name',
  ],
  ['an invalid node name', { ...placed, shards: shardsWith({ name: 'Fine', node: 'node/2' }) }, 'shards[1].node'],
  ['the node name ..', { ...placed, shards: shardsWith({ name: 'Fine', node: '..' }) }, 'shards[1].node'],
  ['a shard that is no object', { ...placed, shards: shardsWith('Fine') }, 'shards[1]'],
  ['fewer shards than desiredCount', { ...placed, shards: placed.shards.slice(0, 2) }, 'shards'],
  ['no shards', { definition: definition('Placed', 1), shards: [] }, 'shards'],
  [
    'more shards than a class may have',
    { definition: definition('Placed', 64), shards: Array(65).fill(placed.shards[1]) },
    'shards',
  ],
  ['shards not an array', { ...placed, shards: { 0: placed.shards[1] } }, 'shards'],
  ['an invalid class name', { ...placed, definition: { ...placed.definition, class: '../Placed' } }, 'definition'],
  ['a definition that is no object', { ...placed, definition: 'Placed' }, 'definition'],
  ['a record that is no object', null, 'record'],
];

for (const [what, record, field] of hostile) {
  test(`applyClass refuses ${what}, naming ${field}, and creates nothing`, async (t) => {
    const dataPath = await tempDir(t);
    const { db } = await openNode(t, dataPath);
    const before = await readdir(dataPath);
    const error = await t.throwsAsync(db.applyClass(record as ClassRecord), { code: 'STRATA_DB_CLASS_RECORD_INVALID' });
    t.is(error && (error as { statusCode?: number }).statusCode, 422);
    t.true(error?.message.startsWith(`the class record's ${field} `), error?.message);
    t.deepEqual(await readdir(dataPath), before, 'nothing is created in the data path');
    t.deepEqual(db.classRecords(), []);
  });
}

test('a refused definition carries the class rule it broke', async (t) => {
  const dataPath = await tempDir(t);
  const { db } = await openNode(t, dataPath);
  const error = await t.throwsAsync(
    db.applyClass({ ...placed, definition: { ...placed.definition, vectorizer: 'text2vec-openai' } }),
  );
  const cause = error?.cause as { code?: string; message?: string } | undefined;
  t.is(cause?.code, 'STRATA_DB_VECTORIZER_UNSUPPORTED');
  t.is(error?.message, `the class record's definition is not a valid class: ${cause?.message}`);
});

test('on a single node (ownShardsOnly false) applyClass opens every shard, whatever node it records', async (t) => {
  const dataPath = await tempDir(t);
  const { db } = await openNode(t, dataPath, 'node7', false);
  t.true(await db.applyClass(placed));
  t.deepEqual((await readdir(join(dataPath, 'placed'))).sort(), placed.shards.map((shard) => shard.name).sort());
  const ids = Array.from({ length: 30 }, () => randomUUID());
  const results = await db.batchObjects(ids.map((id) => ({ class: 'Placed', id, properties: {} })));
  t.true(results.every((result) => 'object' in result));
  for (const id of ids) t.is((await db.getObject('Placed', id))?.id, id);
  const stats = await db.shardStats('Placed');
  t.deepEqual(
    stats.map((shard) => [shard.name, shard.node]),
    placed.shards.map((shard) => [shard.name, shard.node]),
  );
  t.is(
    stats.reduce((sum, shard) => sum + shard.objectCount, 0),
    30,
  );
});
