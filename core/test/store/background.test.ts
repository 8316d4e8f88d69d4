import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parseFileName } from '../../src/store/filenames.js';
import { LsmStore } from '../../src/store/index.js';
import { JobAborted, sharedRunner } from '../../src/store/jobs.js';

const key = (i: number) => `key-${String(i).padStart(7, '0')}`;
const value = Buffer.alloc(200, 42);

test('reads and writes carry on, and stay correct, while flushes and compactions run', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-background-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await LsmStore.open(dir, { memtableBytes: 1024 * 1024 });
  const bucket = store.bucket('data');
  await store.pauseCompaction();
  for (let i = 0; i < 60_000; i += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, j) => bucket.put(key(i + j), value)));
  }
  await store.flush();
  t.true(store.stats().segments.length >= 10);
  // Rewriting 3,000 keys fills most of the 1 MiB memtable, so a flush falls within the compaction even
  // when a loaded machine gets through only a few thousand writes while it runs.
  await Promise.all(Array.from({ length: 3000 }, (_, j) => bucket.put(key(j), value)));
  t.true(store.stats().memtableBytes > 900 * 1024, 'and the memtable is not rotated yet');

  store.resumeCompaction();
  const compaction = store.compact();
  let duringCompaction = 0;
  let duringFlush = 0;
  for (let i = 60_000; store.stats().compacting; i++) {
    await bucket.put(key(i), value);
    t.deepEqual(await bucket.get(key(i - 60_000)), value);
    duringCompaction++;
    if (store.stats().frozenMemtables > 0) duringFlush++;
  }
  await compaction;
  t.log(`${duringCompaction} writes and reads completed while a compaction ran, ${duringFlush} of them during a flush`);
  t.true(duringCompaction > 100, 'writes should not wait for the compaction');
  t.true(duringFlush > 0, 'writes should not wait for a flush');
  let count = 0;
  for await (const _ of bucket.scan()) count++;
  t.is(count, 60_000 + duringCompaction);
  await store.close();
});

test('the shared compaction worker runs two jobs at once; one aborted while it waits is dropped and rejects', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'strata-background-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dirs = ['a', 'b', 'c'].map((name) => join(root, name));
  for (const dir of dirs) {
    const store = await LsmStore.open(dir);
    await store.pauseCompaction();
    for (let i = 0; i < 6_000; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => store.bucket('data').put(key(i + j), value)));
      await store.flush();
    }
    await store.close();
  }
  const segmentsOf = async (dir: string) => (await readdir(dir)).filter((name) => name.startsWith('segment-')).sort();
  const jobOf = async (dir: string) => ({ dir, inputs: await segmentsOf(dir), dropTombstones: true });
  const jobs = await Promise.all(dirs.map(jobOf));
  const before = await segmentsOf(dirs[2] as string);

  // Submitted in one turn: two start, the third waits; its abort in that same turn finds it waiting.
  const runner = sharedRunner('compaction');
  const abort = new AbortController();
  const running = jobs.slice(0, 2).map((job) => runner.compact(job));
  const waiting = runner.compact(jobs[2] as (typeof jobs)[number], abort.signal);
  abort.abort();
  await t.throwsAsync(waiting, { instanceOf: JobAborted });
  for (const result of await Promise.all(running)) t.is(result.entries, 6_000);
  t.deepEqual(await segmentsOf(dirs[2] as string), before, 'the dropped job wrote nothing');
  const kinds = (await readdir(dirs[2] as string)).map((name) => parseFileName(name).kind);
  t.false(kinds.includes('temporary'), 'nor left a temporary file');
});
