import 'reflect-metadata';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { Database, type StagedClass } from '../../src/db/index.js';
import { LsmStoreFactory } from '../../src/store/index.js';
import { FaultyFs } from './helpers/faulty-fs.js';
import { snapshotInto, tempDir } from './helpers/staged.js';

async function openDatabase(t: { teardown(fn: () => Promise<void>): void }, dataPath?: string) {
  const path = dataPath ?? (await tempDir(t, 'strata-db-'));
  const db = await Database.open({
    dataPath: path,
    nodeName: 'node1',
    storeFactory: new LsmStoreFactory({}),
    warn: () => {},
  });
  t.teardown(() => db.close());
  return { db, path };
}

test('a snapshot holds every acknowledged write as hard links, and later writes leave it alone', async (t) => {
  const { db } = await openDatabase(t);
  const staging = await tempDir(t, 'strata-staging-');
  await db.createClass({
    class: 'Kept',
    properties: [{ name: 'n', dataType: ['int'] }],
    shardingConfig: { desiredCount: 2 },
  });
  const before = await Promise.all(
    Array.from({ length: 300 }, (_, n) => db.createObject({ class: 'Kept', properties: { n } })),
  );

  const [snapshot] = await db.snapshotClasses(['Kept'], staging);
  t.is(snapshot?.shards.length, 2);
  const files = snapshot?.shards.flatMap((shard) => shard.files) ?? [];
  t.true(files.length >= 2, 'every shard flushed at least one segment');
  for (const file of files) {
    t.regex(file.path, /^kept\/[A-Za-z0-9]{12}\/.+/);
    const staged = await stat(file.source);
    t.is(staged.size, file.size);
    t.true(staged.nlink >= 2, `${file.path} is a hard link, not a copy`);
  }
  const contents = await Promise.all(files.map((file) => readFile(file.source)));
  for (let n = 0; n < 300; n++) await db.createObject({ class: 'Kept', properties: { n: -n } });
  await Promise.all(db.shardsOf('Kept').map((shard) => shard.store.flush()));
  t.deepEqual(await Promise.all(files.map((file) => readFile(file.source))), contents, 'staged files never change');

  const other = await openDatabase(t);
  const restored = await tempDir(t, 'strata-restored-');
  await other.db.attachClasses(await snapshotInto(db, ['Kept'], await tempDir(t, 'strata-staging-'), restored));
  const back = await other.db.listObjects({ className: 'Kept', limit: 10_000 });
  t.is(back.length, 600, 'a later snapshot holds the later writes too');
  for (const object of before) t.deepEqual(await other.db.getObject('Kept', object.id), object);
});

test('attaching classes is all or none: a class that exists refuses the whole set and moves nothing', async (t) => {
  const source = await openDatabase(t);
  for (const name of ['First', 'Second']) {
    await source.db.createClass({ class: name });
    await source.db.createObject({ class: name, properties: {} });
  }
  const restored = await tempDir(t, 'strata-restored-');
  const staged = await snapshotInto(source.db, ['First', 'Second'], await tempDir(t, 'strata-staging-'), restored);

  const target = await openDatabase(t);
  await target.db.createClass({ class: 'Second' });
  const error = await t.throwsAsync(target.db.attachClasses(staged));
  t.is((error as { code?: string }).code, 'STRATA_DB_CLASS_EXISTS');
  t.is(target.db.getClass('First'), undefined);
  for (const { shards } of staged)
    for (const shard of shards) t.truthy(await stat(shard.directory), 'staged shards stay where they were');
});

test('a failure half-way through attaching rolls back what was moved, in memory and on disk', async (t) => {
  const source = await openDatabase(t);
  for (const name of ['First', 'Second']) {
    await source.db.createClass({ class: name });
    await source.db.createObject({ class: name, properties: {} });
  }
  const restored = await tempDir(t, 'strata-restored-');
  const staged = await snapshotInto(source.db, ['First', 'Second'], await tempDir(t, 'strata-staging-'), restored);
  const broken = [
    staged[0] as StagedClass,
    { ...(staged[1] as StagedClass), shards: [{ name: 'gone', node: 'node1', directory: join(restored, 'missing') }] },
  ];

  const target = await openDatabase(t);
  await t.throwsAsync(target.db.attachClasses(broken), { message: /ENOENT/ });
  t.deepEqual(target.db.classes(), []);
  t.truthy(await stat(staged[0]?.shards[0]?.directory ?? ''), 'the first class was moved back to staging');
  await target.db.close();
  const reopened = await openDatabase(t, target.path);
  t.deepEqual(reopened.db.classes(), [], 'schema.json was not touched');
  await reopened.db.attachClasses(staged.slice(0, 1));
  t.is(
    (await reopened.db.listObjects({ className: 'First', limit: 10 })).length,
    1,
    'the staged files are intact and attach later',
  );
});

test('a store that lists a file a restore would refuse ("../x") fails the snapshot, and links nothing', async (t) => {
  const inner = new LsmStoreFactory({});
  const storeFactory = {
    async open(directory: string) {
      const store = await inner.open(directory);
      const listFiles = async () => [{ path: '../../../escaped.db', size: 1 }];
      return new Proxy(store, {
        get(target, name) {
          if (name === 'listFiles') return listFiles;
          const value = Reflect.get(target, name, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  };
  const dataPath = await tempDir(t, 'strata-db-');
  const db = await Database.open({ dataPath, nodeName: 'node1', storeFactory, warn: () => {} });
  t.teardown(() => db.close());
  await db.createClass({ class: 'Odd', properties: [{ name: 'n', dataType: ['int'] }] });
  const staging = await tempDir(t, 'strata-staging-');
  await t.throwsAsync(db.snapshotClasses(['Odd'], staging), {
    message: /lists the file "\.\.\/\.\.\/\.\.\/escaped\.db": a backup can only carry up to 4 "\/"-separated names/,
  });
  await t.throwsAsync(stat(join(staging, '..', 'escaped.db')), { code: 'ENOENT' });
});

test('a link failing mid-snapshot fails the snapshot, and no store is left with compaction paused', async (t) => {
  const fs = new FaultyFs();
  const dataPath = await tempDir(t, 'strata-db-');
  const db = await Database.open({ dataPath, nodeName: 'node1', storeFactory: new LsmStoreFactory({}), fs });
  t.teardown(() => db.close());
  await db.createClass({
    class: 'Kept',
    properties: [{ name: 'n', dataType: ['int'] }],
    shardingConfig: { desiredCount: 2 },
  });
  for (let n = 0; n < 50; n++) await db.createObject({ class: 'Kept', properties: { n } });
  fs.record();
  await db.snapshotClasses(['Kept'], await tempDir(t, 'strata-staging-'));
  const links = fs.calls.flatMap((call, i) => (call.op === 'link' ? [i + 1] : []));
  t.is(links.length, 2, 'one segment per shard');

  // The second shard's link fails, and so does the copy it falls back to.
  fs.failFrom(links[1] as number);
  await t.throwsAsync(db.snapshotClasses(['Kept'], await tempDir(t, 'strata-staging-')), { code: 'EIO' });
  for (const shard of db.shardsOf('Kept')) {
    await t.throwsAsync(shard.store.listFiles(), { code: 'STRATA_STORE_NOT_PAUSED' }, `shard ${shard.name} resumed`);
  }
  fs.record();
  const [snapshot] = await db.snapshotClasses(['Kept'], await tempDir(t, 'strata-staging-'));
  t.is(snapshot?.shards.flatMap((shard) => shard.files).length, 2, 'the next snapshot works');
});
