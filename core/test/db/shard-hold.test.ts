/**
 * holdRestored and releaseHeld on a real data path and the real store: restored shards held in
 * their final directories without becoming classes, opened when the cluster's record of the class
 * names exactly them, released (deleted) otherwise, on release, and on close; every refusal moving
 * nothing, and a failure at any change of the hold rolled back.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { ClassDefinition } from '../../src/db/class-definition.js';
import { type ClassRecord, Database, type DataFs, type StagedClass, shardDirectory } from '../../src/db/index.js';
import { ShardDirectoryExistsError } from '../../src/errors.js';
import { LsmStoreFactory, type StoreFactory } from '../../src/store/index.js';
import { FaultyFs } from './helpers/faulty-fs.js';
import { snapshotInto, tempDir } from './helpers/staged.js';

const OBJECTS = 5;

/** A node with `Article` (2 shards) and `Second` (1 shard), each with objects: what every test restores from. */
const source = (async () => {
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-hold-source-'));
  const db = await Database.open({ dataPath, nodeName: 'node1', storeFactory: new LsmStoreFactory({}) });
  await db.createClass({
    class: 'Article',
    properties: [{ name: 'n', dataType: ['int'] }],
    shardingConfig: { desiredCount: 2 },
  });
  await db.createClass({ class: 'Second', properties: [{ name: 'n', dataType: ['int'] }] });
  for (let n = 0; n < OBJECTS; n++) {
    await db.createObject({ class: 'Article', properties: { n } });
    await db.createObject({ class: 'Second', properties: { n } });
  }
  return { db, dataPath };
})();
test.after.always(async () => {
  const { db, dataPath } = await source;
  await db.close();
  await rm(dataPath, { recursive: true, force: true });
});

/** A fresh staged copy of `names`, as a restore leaves it before the hold. */
async function staged(t: ExecutionContext, names: string[] = ['Article']): Promise<StagedClass[]> {
  const { db } = await source;
  return snapshotInto(db, names, await tempDir(t, 'strata-hold-staging-'), await tempDir(t, 'strata-hold-restored-'));
}

/** A cluster node (ownShardsOnly) named node1 on a fresh data path. */
async function node(
  t: ExecutionContext,
  options: { fs?: DataFs; storeFactory?: StoreFactory; dataPath?: string } = {},
) {
  const dataPath = options.dataPath ?? (await tempDir(t, 'strata-hold-'));
  const warnings: object[] = [];
  const db = await Database.open({
    dataPath,
    nodeName: 'node1',
    ownShardsOnly: true,
    storeFactory: options.storeFactory ?? new LsmStoreFactory({}),
    warn: (fields) => warnings.push(fields),
    ...(options.fs === undefined ? {} : { fs: options.fs }),
  });
  t.teardown(() => db.close());
  return { db, dataPath, warnings };
}

/** The record the cluster makes of a staged class: its shards, all on node1. */
const recordOf = ({ definition, shards }: StagedClass): ClassRecord => ({
  definition,
  shards: shards.map(({ name }) => ({ name, node: 'node1' })),
});

/** `definition` with `count` shards, so a record of another shape still passes the record rules. */
const withShards = (definition: ClassDefinition, count: number): ClassDefinition => ({
  ...definition,
  shardingConfig: { ...definition.shardingConfig, desiredCount: count },
});

const count = async (db: Database, className: string) => (await db.listObjects({ className, limit: 100 })).length;
const directories = (dataPath: string, { definition, shards }: StagedClass) =>
  shards.map((shard) => shardDirectory(dataPath, definition.class, shard.name));

test('holdRestored moves the shards into place and adds no class; applyClass of their record opens the restored objects', async (t) => {
  const { db, dataPath } = await node(t);
  await db.createClass({ class: 'Other' });
  const schemaBefore = await readFile(join(dataPath, 'schema.json'), 'utf8');
  const [article] = (await staged(t)) as [StagedClass];

  await db.holdRestored([article]);
  for (const shard of article.shards) t.false(existsSync(shard.directory), 'moved out of staging');
  for (const dir of directories(dataPath, article)) t.true(existsSync(dir), 'moved into place');
  t.is(db.getClass('Article'), undefined, 'not a class of the node yet');
  t.is(await readFile(join(dataPath, 'schema.json'), 'utf8'), schemaBefore, 'schema.json is not written');

  t.true(await db.applyClass(recordOf(article)));
  t.is(await count(db, 'Article'), OBJECTS, 'the held directories were opened, with the restored objects');
  await db.releaseHeld(['Article']);
  t.is(await count(db, 'Article'), OBJECTS, 'the hold was dropped when the class was added: release leaves it');
  for (const dir of directories(dataPath, article)) t.true(existsSync(dir));
  await t.throwsAsync(db.holdRestored(await staged(t)), { code: 'STRATA_DB_CLASS_EXISTS' });
});

/** Records of a held class that are not the held one, and classes added under a held name some other way. */
const OTHERS: ReadonlyArray<{
  readonly name: string;
  readonly add: (db: Database, held: StagedClass) => Promise<unknown>;
}> = [
  {
    name: 'other shard names',
    add: (db, { definition }) =>
      db.applyClass({
        definition,
        shards: [
          { name: 'NewShardAaa1', node: 'node1' },
          { name: 'NewShardBbb2', node: 'node1' },
        ],
      }),
  },
  {
    name: 'one more shard on this node',
    add: (db, held) =>
      db.applyClass({
        definition: withShards(held.definition, 3),
        shards: [...recordOf(held).shards, { name: 'NewShardCcc3', node: 'node1' }],
      }),
  },
  {
    name: 'fewer shards',
    add: (db, held) =>
      db.applyClass({ definition: withShards(held.definition, 1), shards: recordOf(held).shards.slice(0, 1) }),
  },
  {
    name: 'a held shard placed on another node',
    add: (db, held) =>
      db.applyClass({
        definition: held.definition,
        shards: recordOf(held).shards.map((shard, i) => (i === 0 ? { ...shard, node: 'node2' } : shard)),
      }),
  },
  {
    name: 'createClass of the name',
    add: (db) => db.createClass({ class: 'Article', shardingConfig: { desiredCount: 2 } }),
  },
];

for (const { name, add } of OTHERS) {
  test(`a class added under a held name with ${name} releases the hold before it opens a shard`, async (t) => {
    const { db, dataPath } = await node(t);
    const [article] = (await staged(t)) as [StagedClass];
    await db.holdRestored([article]);
    await add(db, article);
    t.truthy(db.getClass('Article'));
    t.is(await count(db, 'Article'), 0, 'no restored object is served under a shard it was not restored for');
    const open = new Set(db.shardsOf('Article').map((shard) => shardDirectory(dataPath, 'Article', shard.name)));
    for (const dir of directories(dataPath, article)) {
      if (!open.has(dir)) t.false(existsSync(dir), 'a held directory no open shard uses is deleted');
    }
  });
}

test('releaseHeld deletes exactly what the hold moved, and the class directory only when the hold made it and it is empty', async (t) => {
  const { db, dataPath } = await node(t);
  const [article, second] = (await staged(t, ['Article', 'Second'])) as [StagedClass, StagedClass];
  // A leftover class directory of `Second` (made after the start's orphan scan): not the hold's to remove.
  await mkdir(join(dataPath, 'second', 'leftover'), { recursive: true });
  await db.holdRestored([article, second]);
  await writeFile(join(dataPath, 'neighbour.txt'), 'not held');

  await db.releaseHeld(['Nothing', 'article', 'Second']);
  t.false(existsSync(join(dataPath, 'article')), 'the class directory the hold made, with the held shards');
  t.deepEqual(
    await readdir(join(dataPath, 'second')),
    ['leftover'],
    "only the held shard of a directory it didn't make",
  );
  t.true(existsSync(join(dataPath, 'neighbour.txt')));
  await db.releaseHeld(['Article', 'Second']);
  t.pass('releasing twice resolves');

  const [again] = (await staged(t)) as [StagedClass];
  await db.holdRestored([again]);
  t.true(await db.applyClass(recordOf(again)), 'a released class can be held again');
  t.is(await count(db, 'Article'), OBJECTS);
});

test('releaseHeld keeps a class directory the hold made when something else is in it now', async (t) => {
  const { db, dataPath } = await node(t);
  const [article] = (await staged(t)) as [StagedClass];
  await db.holdRestored([article]);
  await mkdir(join(dataPath, 'article', 'stray'));
  await db.releaseHeld(['Article']);
  t.deepEqual(await readdir(join(dataPath, 'article')), ['stray']);
});

/** Sets that holdRestored refuses whole: `Second` comes first and is fine, `Article` is not. */
const REFUSED: ReadonlyArray<{
  readonly name: string;
  readonly prepare?: (db: Database, dataPath: string, article: StagedClass, t: ExecutionContext) => Promise<unknown>;
  readonly article?: (article: StagedClass) => StagedClass;
  readonly error: { readonly code?: string; readonly instanceOf?: typeof TypeError; readonly message?: RegExp };
}> = [
  {
    name: 'a class in the schema',
    prepare: (db) => db.createClass({ class: 'article' }),
    error: { code: 'STRATA_DB_CLASS_EXISTS', message: /^class name Article already exists$/ },
  },
  {
    name: 'a class held already',
    prepare: async (db, _dataPath, _article, t) => db.holdRestored(await staged(t)),
    error: { code: 'STRATA_DB_CLASS_EXISTS' },
  },
  {
    name: 'a shard named ../x',
    article: (article) => ({
      ...article,
      shards: article.shards.map((shard, i) => (i === 1 ? { ...shard, name: '../x' } : shard)),
    }),
    error: { instanceOf: TypeError, message: /invalid shard name "\.\.\/x"/ },
  },
  {
    name: 'a shard name given twice, ignoring case',
    article: (article) => ({
      ...article,
      shards: article.shards.map((shard, i) => ({ ...shard, name: i === 0 ? 'Shard' : 'sHARD' })),
    }),
    error: { instanceOf: TypeError, message: /shard name sHARD is given twice/ },
  },
  {
    name: 'a class given twice',
    article: (article) => ({ ...article, definition: { ...article.definition, class: 'Second' } }),
    error: { instanceOf: TypeError, message: /class Second is given twice/ },
  },
  {
    name: 'a shard directory that exists',
    prepare: (_db, dataPath, article) =>
      mkdir(shardDirectory(dataPath, 'Article', article.shards[1]?.name ?? ''), { recursive: true }),
    error: {
      code: ShardDirectoryExistsError.code,
      message:
        /^cannot restore shard \w+ of class Article: its directory .* exists already, though no class of this node has it .* Nothing was moved\. Move that directory out of the data path/,
    },
  },
];

for (const { name, prepare, article: alter, error } of REFUSED) {
  test(`holdRestored refuses ${name}, moving nothing of any class`, async (t) => {
    const { db, dataPath } = await node(t);
    const [article, second] = (await staged(t, ['Article', 'Second'])) as [StagedClass, StagedClass];
    await prepare?.(db, dataPath, article, t);
    const before = (await readdir(dataPath)).sort();
    const refused = await t.throwsAsync(db.holdRestored([second, alter?.(article) ?? article]));
    if (error.code !== undefined) t.is((refused as { code?: string }).code, error.code);
    if (error.instanceOf !== undefined) t.true(refused instanceof error.instanceOf);
    if (error.message !== undefined) t.regex(refused?.message ?? '', error.message);
    for (const { directory } of [...second.shards, ...article.shards]) t.true(existsSync(directory), 'still staged');
    t.deepEqual((await readdir(dataPath)).sort(), before, 'no class directory made');
    await db.holdRestored([second]);
    t.true(await db.applyClass(recordOf(second)), 'nothing of the refused set was held');
    t.is(await count(db, 'Second'), OBJECTS);
  });
}

test('attachClasses refuses a class that is held', async (t) => {
  const dataPath = await tempDir(t, 'strata-hold-');
  const db = await Database.open({ dataPath, nodeName: 'node1', storeFactory: new LsmStoreFactory({}) });
  t.teardown(() => db.close());
  await db.holdRestored(await staged(t));
  await t.throwsAsync(db.attachClasses(await staged(t)), { code: 'STRATA_DB_CLASS_EXISTS' });
});

/** Every change holdRestored makes for one class of two shards, in order, and what a failure of it leaves. */
const STEPS: ReadonlyArray<{ readonly call: string; readonly failure: 'rolled back' | 'tolerated' }> = [
  { call: 'mkdir article', failure: 'rolled back' },
  { call: 'rename <staging 1> -> article/<shard 1>', failure: 'rolled back' },
  { call: 'rename <staging 2> -> article/<shard 2>', failure: 'rolled back' },
  // A directory fsync is best effort (some filesystems cannot): the hold completes.
  { call: 'fsync article/<shard 1>', failure: 'tolerated' },
  { call: 'fsync article/<shard 2>', failure: 'tolerated' },
  { call: 'fsync article', failure: 'tolerated' },
  { call: 'fsync .', failure: 'tolerated' },
];

/** A call as STEPS names it, relative to the data path, staging and shards by number. */
function describe(call: { op: string; path: string; to?: string }, dataPath: string, held: StagedClass): string {
  const named = (path: string) => {
    const i = held.shards.findIndex((shard) => shard.directory === path);
    if (i >= 0) return `<staging ${i + 1}>`;
    const relative = path === dataPath ? '.' : path.slice(dataPath.length + 1);
    return held.shards.reduce((text, shard, n) => text.replace(shard.name, `<shard ${n + 1}>`), relative);
  };
  return `${call.op} ${named(call.path)}${call.to === undefined ? '' : ` -> ${named(call.to)}`}`;
}

test('holdRestored makes exactly the changes of STEPS', async (t) => {
  const fs = new FaultyFs();
  const { db, dataPath } = await node(t, { fs });
  const [article] = (await staged(t)) as [StagedClass];
  fs.record();
  await db.holdRestored([article]);
  t.deepEqual(
    fs.calls.map((call) => describe(call, dataPath, article)),
    STEPS.map((step) => step.call),
  );
});

for (const [i, step] of STEPS.entries()) {
  test(`a failure at "${step.call}" (change ${i + 1}) of holdRestored is ${step.failure}`, async (t) => {
    const fs = new FaultyFs();
    const { db, dataPath } = await node(t, { fs });
    const [article] = (await staged(t)) as [StagedClass];
    fs.failAt(i + 1);
    if (step.failure === 'tolerated') {
      await db.holdRestored([article]);
    } else {
      await t.throwsAsync(db.holdRestored([article]), { message: /EIO: injected/ });
      for (const { directory } of article.shards) t.true(existsSync(directory), 'moved back to staging');
      t.false(existsSync(join(dataPath, 'article')), 'the class directory it made is gone');
      fs.record();
      await db.holdRestored([article]);
    }
    t.true(await db.applyClass(recordOf(article)), 'held once, whole');
    t.is(await count(db, 'Article'), OBJECTS);
  });
}

test('applyClass of a held class whose store fails to open keeps the hold: a retry opens the restored objects, a release deletes them', async (t) => {
  const inner = new LsmStoreFactory({});
  const failed = new Set<string>();
  // The first store opened of each class fails.
  const storeFactory: StoreFactory = {
    open: (directory) => {
      if (failed.has(dirname(directory))) return inner.open(directory);
      failed.add(dirname(directory));
      return Promise.reject(new Error('injected open failure'));
    },
  };
  const { db, dataPath } = await node(t, { storeFactory });
  const [article, second] = (await staged(t, ['Article', 'Second'])) as [StagedClass, StagedClass];
  await db.holdRestored([article, second]);

  await t.throwsAsync(db.applyClass(recordOf(article)), { message: 'injected open failure' });
  t.is(db.getClass('Article'), undefined);
  for (const dir of directories(dataPath, article)) t.true(existsSync(dir), 'the restored data stays held');
  t.true(await db.applyClass(recordOf(article)));
  t.is(await count(db, 'Article'), OBJECTS);

  await t.throwsAsync(db.applyClass(recordOf(second)), { message: 'injected open failure' });
  await db.releaseHeld(['Second']);
  t.false(existsSync(join(dataPath, 'second')), 'released after the failed apply');
});

test('applyClass of another record whose held directories cannot be deleted opens nothing; a later one finishes', async (t) => {
  const fs = new FaultyFs();
  const { db, dataPath } = await node(t, { fs });
  const [article] = (await staged(t)) as [StagedClass];
  await db.holdRestored([article]);
  const other: ClassRecord = {
    definition: withShards(article.definition, 1),
    shards: [{ name: 'NewShardAaa1', node: 'node1' }],
  };
  fs.failAt(1);
  await t.throwsAsync(db.applyClass(other), { message: /EIO: injected at rename/ });
  t.is(db.getClass('Article'), undefined, 'not added while restored data may be left');
  t.false(existsSync(shardDirectory(dataPath, 'Article', 'NewShardAaa1')), 'no shard opened');
  fs.record();
  t.true(await db.applyClass(other));
  for (const dir of directories(dataPath, article)) t.false(existsSync(dir));
  t.is(await count(db, 'Article'), 0);
});

test('close releases every hold: the held directories are deleted, and the next start moves nothing aside', async (t) => {
  const { db, dataPath } = await node(t);
  await db.holdRestored(await staged(t, ['Article', 'Second']));
  await db.close();
  t.deepEqual(
    (await readdir(dataPath)).filter((name) => !['LOCK', 'schema.json'].includes(name)),
    [],
  );
  const reopened = await node(t, { dataPath });
  t.deepEqual(reopened.warnings, []);
  t.deepEqual(reopened.db.classes(), []);
});

test("a crashed node's held directories are moved aside at the next start, never opened", async (t) => {
  const { db, dataPath } = await node(t);
  await db.holdRestored(await staged(t));
  // What a kill leaves: the data path as it is now, holds and all; the copy stands for it.
  const crashed = await tempDir(t, 'strata-hold-crashed-');
  await cp(dataPath, crashed, { recursive: true });
  const restarted = await node(t, { dataPath: crashed });
  t.deepEqual(restarted.db.classes(), []);
  t.false(existsSync(join(crashed, 'article')));
  t.is((await readdir(join(crashed, '.orphaned'))).filter((name) => name.startsWith('article-')).length, 1);
  t.like(restarted.warnings[0], { directory: 'article' });
});
