/**
 * attachClasses at every change it makes to the filesystem: each made to fail (the call rejects,
 * the rollback runs) and each made the point of a crash (nothing after it reaches the disk), then
 * the data path reopened as a restarted node would.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { ClassDefinition } from '../../src/db/class-definition.js';
import { Database, type StagedClass, shardDirectory } from '../../src/db/index.js';
import { LsmStoreFactory } from '../../src/store/index.js';
import { FaultyFs, type FsCall } from './helpers/faulty-fs.js';

/** What a failure at a step must leave. */
type Failure =
  /** The call rejects; the class is absent, its directory gone, the staged shards back in staging. */
  | 'rolled back'
  /** A directory fsync is best effort (some filesystems cannot): the attach completes. */
  | 'tolerated'
  /** Past schema.json's rename: the call rejects, but the class is attached, with every object. */
  | 'committed';

/** Every change attachClasses makes for one class of two shards, in order, and what its failure leaves. */
const STEPS: ReadonlyArray<{ readonly call: string; readonly failure: Failure }> = [
  { call: 'mkdir article', failure: 'rolled back' },
  { call: 'rename <staging>/article/<shard 1> -> article/<shard 1>', failure: 'rolled back' },
  { call: 'rename <staging>/article/<shard 2> -> article/<shard 2>', failure: 'rolled back' },
  { call: 'fsync article/<shard 1>', failure: 'tolerated' },
  { call: 'fsync article/<shard 2>', failure: 'tolerated' },
  { call: 'fsync article', failure: 'tolerated' },
  { call: 'fsync .', failure: 'tolerated' },
  { call: 'write schema.json.tmp', failure: 'rolled back' },
  { call: 'fsync schema.json.tmp', failure: 'rolled back' },
  { call: 'rename schema.json.tmp -> schema.json', failure: 'rolled back' },
  { call: 'fsync .', failure: 'committed' },
];

const OBJECTS = 20;

/** A snapshot of a two-shard class, made once: each test restores a copy of it into its own staging. */
const source = (async () => {
  const root = await mkdtemp(join(tmpdir(), 'strata-attach-source-'));
  const db = await Database.open({
    dataPath: join(root, 'data'),
    nodeName: 'node1',
    storeFactory: new LsmStoreFactory({}),
  });
  await db.createClass({
    class: 'Article',
    properties: [{ name: 'n', dataType: ['int'] }],
    shardingConfig: { desiredCount: 2 },
  });
  for (let n = 0; n < OBJECTS; n++) await db.createObject({ class: 'Article', properties: { n } });
  const snapshot = join(root, 'snapshot');
  const [captured] = await db.snapshotClasses(['Article'], snapshot);
  await db.close();
  const definition = captured?.definition as ClassDefinition;
  const shards = captured?.shards.map((shard) => shard.name) ?? [];
  return { root, snapshot, definition, shards };
})();
test.after.always(async () => rm((await source).root, { recursive: true, force: true }));

/** The files of a directory, by name, with their bytes. */
async function filesIn(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir)).sort();
  const bytes = await Promise.all(names.map((name) => readFile(join(dir, name), 'hex')));
  return Object.fromEntries(names.map((name, i) => [name, bytes[i] as string]));
}

/**
 * A node with a class `Kept` attaches the snapshot's class through a FaultyFs armed by `arm`; then the
 * node stops and the data path is reopened on the real filesystem.
 */
async function attach(t: ExecutionContext, arm: (fs: FaultyFs) => void) {
  const { snapshot, definition, shards } = await source;
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-attach-'));
  t.teardown(() => rm(dataPath, { recursive: true, force: true }));
  const staging = join(dataPath, '.restore-staging', 'r');
  await cp(snapshot, staging, { recursive: true });
  const staged: StagedClass = {
    definition,
    shards: shards.map((name) => ({ name, node: 'node1', directory: shardDirectory(staging, 'Article', name) })),
  };
  const fs = new FaultyFs();
  const options = { dataPath, nodeName: 'node1', storeFactory: new LsmStoreFactory({}), warn: () => {} };
  const db = await Database.open({ ...options, fs });
  await db.createClass({ class: 'Kept' });
  const kept = await db.createObject({ class: 'Kept', properties: {} });

  arm(fs);
  const error = await db.attachClasses([staged]).then(
    () => undefined,
    (thrown: unknown) => thrown as NodeJS.ErrnoException,
  );
  const attachedBeforeRestart = db.getClass('Article') !== undefined;
  const changes = [...fs.calls];
  await db.close();
  const reopened = await Database.open(options);
  t.teardown(() => reopened.close());

  const name = (path: string) => {
    let named = path.startsWith(staging) ? `<staging>${path.slice(staging.length)}` : relative(dataPath, path) || '.';
    for (const [i, shard] of shards.entries()) named = named.replaceAll(shard, `<shard ${i + 1}>`);
    return named;
  };
  const calls = changes.map((call: FsCall) => `${call.op} ${name(call.path)}${call.to ? ` -> ${name(call.to)}` : ''}`);
  return { error, attachedBeforeRestart, reopened, kept, dataPath, staged, calls, snapshot };
}

/** The class is attached after the restart, with every object it was backed up with. */
async function assertAttached(t: ExecutionContext, reopened: Database) {
  t.deepEqual(
    reopened.classes().map((c) => c.class),
    ['Kept', 'Article'],
  );
  t.is((await reopened.listObjects({ className: 'Article', limit: 100 })).length, OBJECTS);
}

/** The schema is as before the attach: `Kept` only, with its object. */
async function assertNotAttached(t: ExecutionContext, run: Awaited<ReturnType<typeof attach>>) {
  t.false(run.attachedBeforeRestart);
  t.deepEqual(
    run.reopened.classes().map((c) => c.class),
    ['Kept'],
  );
  t.deepEqual(await run.reopened.getObject('Kept', run.kept.id), run.kept);
  t.false(existsSync(join(run.dataPath, 'article')), 'no shard directory is left where the class would be');
}

test('the table lists every change attachClasses makes to the filesystem, in order', async (t) => {
  const run = await attach(t, (fs) => fs.record());
  t.is(run.error, undefined);
  t.deepEqual(
    run.calls,
    STEPS.map((step) => step.call),
  );
  await assertAttached(t, run.reopened);
});

for (const [i, step] of STEPS.entries()) {
  test(`a failure at step ${i + 1} (${step.call}): ${step.failure}`, async (t) => {
    const run = await attach(t, (fs) => fs.failAt(i + 1));
    if (step.failure === 'tolerated') {
      t.is(run.error, undefined);
      return assertAttached(t, run.reopened);
    }
    t.is(run.error?.code, 'EIO');
    if (step.failure === 'committed') {
      t.true(run.attachedBeforeRestart, 'the classes stay attached past the commit point');
      return assertAttached(t, run.reopened);
    }
    await assertNotAttached(t, run);
    t.false(existsSync(join(run.dataPath, '.orphaned')), 'the rollback left nothing to move aside');
    for (const shard of run.staged.shards) {
      t.deepEqual(
        await filesIn(shard.directory),
        await filesIn(join(run.snapshot, 'article', shard.name)),
        'the staged shard is back in staging, as it was',
      );
    }
  });

  test(`a crash at step ${i + 1} (${step.call}): ${step.failure === 'committed' ? 'attached' : 'not attached'}`, async (t) => {
    const run = await attach(t, (fs) => fs.crashAt(i + 1));
    t.truthy(run.error, 'the call rejects');
    if (step.failure === 'committed') return assertAttached(t, run.reopened);
    await assertNotAttached(t, run);
    // The restart moved what the crash left in the class's place aside: every file is still somewhere.
    const orphans = existsSync(join(run.dataPath, '.orphaned')) ? await readdir(join(run.dataPath, '.orphaned')) : [];
    for (const shard of run.staged.shards) {
      const expected = await filesIn(join(run.snapshot, 'article', shard.name));
      const places = [shard.directory, ...orphans.map((o) => join(run.dataPath, '.orphaned', o, shard.name))];
      const found = await Promise.all(places.filter((place) => existsSync(place)).map(filesIn));
      t.true(
        found.some((files) => Object.entries(expected).every(([file, bytes]) => files[file] === bytes)),
        `shard ${shard.name}'s files are kept, in staging or moved aside`,
      );
    }
  });
}
