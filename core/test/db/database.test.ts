import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { realDataFs } from '../../src/db/data-fs.js';
import { Database } from '../../src/db/index.js';
import { LsmStoreFactory } from '../../src/store/index.js';
import { FaultyFs } from './helpers/faulty-fs.js';

async function openDatabase(t: { teardown(fn: () => Promise<void>): void }, dataPath?: string) {
  const path = dataPath ?? (await mkdtemp(join(tmpdir(), 'strata-db-')));
  if (dataPath === undefined) t.teardown(() => rm(path, { recursive: true, force: true }));
  const warnings: object[] = [];
  const db = await Database.open({
    dataPath: path,
    nodeName: 'node7',
    storeFactory: new LsmStoreFactory({}),
    warn: (fields) => warnings.push(fields),
  });
  return { db, path, warnings };
}

test('shards record the node that owns them; objects spread over every shard', async (t) => {
  const { db } = await openDatabase(t);
  await db.createClass({ class: 'Spread', shardingConfig: { desiredCount: 4 } });
  const shards = db.shardsOf('Spread');
  t.is(shards.length, 4);
  t.true(shards.every((shard) => shard.node === 'node7' && /^[A-Za-z0-9]{12}$/.test(shard.name)));
  for (let i = 0; i < 200; i++) await db.createObject({ class: 'Spread', properties: {} });
  for (const shard of shards) {
    let count = 0;
    for await (const _ of shard.objects.scan()) count++;
    t.true(count > 20, `shard ${shard.name} holds ${count} of 200 objects`);
  }
  await db.close();
});

test('deleting a class waits for requests using it, then removes it', async (t) => {
  const { db, path } = await openDatabase(t);
  await db.createClass({ class: 'Busy', properties: [{ name: 'n', dataType: ['int'] }] });
  const writes = Array.from({ length: 200 }, (_, n) => db.createObject({ class: 'Busy', properties: { n } }));
  const deletion = db.deleteClass('Busy');
  const outcomes = await Promise.allSettled(writes);
  t.true(await deletion);
  t.true(
    outcomes.every((o) => o.status === 'fulfilled'),
    'writes admitted before the deletion complete',
  );
  t.is(db.getClass('Busy'), undefined);
  t.false((await readdir(path)).includes('busy'));
  await t.throwsAsync(db.createObject({ class: 'Busy', properties: {} }), { code: 'STRATA_DB_CLASS_NOT_FOUND' });
  await db.close();
});

test('a directory no class accounts for is moved aside on open, never deleted', async (t) => {
  const { db, path } = await openDatabase(t);
  await db.close();
  await mkdir(join(path, 'leftover', 'shard'), { recursive: true });
  await writeFile(join(path, 'leftover', 'shard', 'segment-00000001-00000001.db'), 'data');
  const reopened = await openDatabase(t, path);
  const [moved] = await readdir(join(path, '.orphaned'));
  t.regex(moved ?? '', /^leftover-\d+$/);
  t.like(reopened.warnings[0], { directory: 'leftover' });
  await reopened.db.close();
});

test('a damaged schema file stops the node with what to do', async (t) => {
  const { db, path } = await openDatabase(t);
  await db.close();
  await writeFile(join(path, 'schema.json'), '{ not json');
  const error = await t.throwsAsync(openDatabase(t, path));
  t.is((error as { code?: string }).code, 'STRATA_DB_SCHEMA_FILE');
  t.true(error?.message.startsWith(`cannot read the schema ${join(path, 'schema.json')}: `));
  t.true(error?.message.endsWith('Restore it from a backup, or move the data path aside to start empty.'));
});

const articles = (count: number, className = 'Article') =>
  Array.from({ length: count }, (_, i) => ({
    class: className,
    id: randomUUID(),
    properties: { title: `Article number ${i}`, wordCount: i },
  }));

const articleClass = (name: string, desiredCount = 1) => ({
  class: name,
  properties: [
    { name: 'title', dataType: ['text'] },
    { name: 'wordCount', dataType: ['int'] },
  ],
  shardingConfig: { desiredCount },
});

test('a large batch lets the event loop turn while it runs', async (t) => {
  const { db } = await openDatabase(t);
  await db.createClass(articleClass('Article', 2));
  const inputs = articles(40_000);
  // How often a 1 ms timer ran while the batch was in progress: never, when the batch held the loop.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const results = await db.batchObjects(inputs);
  clearInterval(timer);
  t.true(
    results.every((result) => 'object' in result),
    'every object is written',
  );
  // Its speed (linear in the batch's size) is bench:liveness's to measure, not a test's.
  t.true(ticks >= 10, `timers ran ${ticks} times during the batch`);
  let stored = 0;
  for (const shard of db.shardsOf('Article')) for await (const _ of shard.objects.scan()) stored++;
  t.is(stored, inputs.length, 'objects past the first store batch of each shard are written too');
  await db.close();
});

test('objects of a class deleted while its batch runs fail on their own; the rest are written', async (t) => {
  const { db } = await openDatabase(t);
  await db.createClass(articleClass('Kept'));
  await db.createClass(articleClass('Doomed'));
  const inputs = [...articles(2000, 'Kept'), ...articles(3, 'Doomed')];
  const batch = db.batchObjects(inputs);
  // Runs as soon as the batch first awaits, long before it reaches the Doomed objects.
  t.true(await db.deleteClass('Doomed'));
  const results = await batch;
  t.true(results.slice(0, 2000).every((result) => 'object' in result));
  t.deepEqual(
    results.slice(2000).map((result) => ('error' in result ? result.error.message : 'written')),
    Array(3).fill('class "Doomed" not found in schema'),
  );
  await db.close();
});

test('a class stays created once schema.json is renamed, even when syncing its directory fails', async (t) => {
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-db-'));
  t.teardown(() => rm(dataPath, { recursive: true, force: true }));
  const fs = new FaultyFs();
  const db = await Database.open({ dataPath, nodeName: 'node7', storeFactory: new LsmStoreFactory({}), fs });
  fs.record();
  await db.createClass({ class: 'First' });
  t.deepEqual(fs.calls.at(-1), { op: 'fsync', path: dataPath }, "a class's last change syncs the data path");
  fs.failAt(fs.calls.length);
  await t.throwsAsync(db.createClass({ class: 'Second' }), { code: 'EIO' });
  t.truthy(db.getClass('Second'), 'schema.json names it, so the node serves it');
  await db.createObject({ class: 'Second', properties: {} });
  await db.close();
  const reopened = await openDatabase(t, dataPath);
  t.deepEqual(
    reopened.db.classes().map((c) => c.class),
    ['First', 'Second'],
  );
  t.is((await reopened.db.listObjects({ className: 'Second', limit: 10 })).length, 1);
  await reopened.db.close();
});

test("a deleted class's directory is renamed aside at once and its files removed off the request; close waits for them", async (t) => {
  const path = await mkdtemp(join(tmpdir(), 'strata-db-'));
  t.teardown(() => rm(path, { recursive: true, force: true }));
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const removing: string[] = [];
  const fs = {
    ...realDataFs,
    promises: {
      rm: async (dir: string, options: { recursive: true; force: true }) => {
        removing.push(dir);
        await held;
        await realDataFs.promises.rm(dir, options);
      },
    },
  };
  const db = await Database.open({ dataPath: path, nodeName: 'node7', storeFactory: new LsmStoreFactory({}), fs });
  await db.createClass({ class: 'Doomed', shardingConfig: { desiredCount: 2 } });
  for (let i = 0; i < 50; i++) await db.createObject({ class: 'Doomed', properties: {} });
  t.true(await db.deleteClass('Doomed'), 'the deletion answers while its files are still being removed');
  const [aside] = (await readdir(path)).filter((name) => name.startsWith('.deleting-doomed-'));
  t.truthy(aside);
  t.false((await readdir(path)).includes('doomed'));
  t.deepEqual(removing, [join(path, aside as string)]);
  t.is((await readdir(join(path, aside as string))).length, 2, 'both shards, not yet removed');
  await db.createClass({ class: 'Doomed' }); // the name is free at once
  const closed = db.close();
  release();
  await closed;
  t.deepEqual(
    (await readdir(path)).filter((name) => name.startsWith('.deleting-')),
    [],
  );
});

test('a class deletion that a crash interrupted is finished when the data path is next opened', async (t) => {
  const path = await mkdtemp(join(tmpdir(), 'strata-db-'));
  t.teardown(() => rm(path, { recursive: true, force: true }));
  await mkdir(join(path, '.deleting-gone-1-1', 'shard1'), { recursive: true });
  await writeFile(join(path, '.deleting-gone-1-1', 'shard1', 'segment-00000001-00000001.db'), 'x');
  const { db } = await openDatabase(t, path);
  await db.close();
  t.deepEqual(
    (await readdir(path)).filter((name) => name.startsWith('.')),
    [],
  );
});
