import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { StrataError } from '../../src/errors.js';
import { LsmStore } from '../../src/store/index.js';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-snapshot-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const key = (i: number) => `key-${String(i).padStart(6, '0')}`;

test('listFiles() while compaction runs is refused, naming what to do', async (t) => {
  const store = await LsmStore.open(join(await tempDir(t), 's'));
  const error = (await store.listFiles().catch((e: unknown) => e)) as StrataError;
  t.is(error.code, 'STRATA_STORE_NOT_PAUSED');
  t.is(error.message, 'listFiles() needs compaction paused: call pauseCompaction() first');
  await store.close();
});

test('resumeCompaction() without a pause is refused; pauses are counted', async (t) => {
  const store = await LsmStore.open(join(await tempDir(t), 's'));
  t.throws(() => store.resumeCompaction(), {
    code: 'STRATA_STORE_NOT_PAUSED',
    message: 'resumeCompaction() needs compaction paused: call pauseCompaction() first',
  });
  await store.pauseCompaction();
  await store.pauseCompaction(); // pausing while paused: counted
  store.resumeCompaction();
  t.true(store.stats().compactionPaused, 'one resume of two pauses leaves compaction paused');
  await t.notThrowsAsync(store.listFiles());
  store.resumeCompaction();
  t.false(store.stats().compactionPaused);
  t.throws(() => store.resumeCompaction(), { code: 'STRATA_STORE_NOT_PAUSED' }); // resuming twice
  await store.close();
});

test('pauseCompaction() stops a running compaction promptly and no compaction runs until resumed', async (t) => {
  const store = await LsmStore.open(join(await tempDir(t), 's'), { memtableBytes: 512 * 1024 });
  const bucket = store.bucket('data');
  await store.pauseCompaction();
  for (let round = 0; round < 8; round++) {
    await Promise.all(Array.from({ length: 12_000 }, (_, i) => bucket.put(key(round * 12_000 + i), 'v'.repeat(120))));
    await store.flush();
  }
  const before = store.stats().segments.length;
  store.resumeCompaction();
  // Merges everything, about 50 turns of the worker: the abort arrives long before the end, even
  // now that compactions read ahead (with 4,000 keys a round it finished first in one suite run).
  const compaction = store.compact();
  while (!store.stats().compacting) await new Promise((resolve) => setImmediate(resolve));
  const started = performance.now();
  await store.pauseCompaction();
  const pauseMs = performance.now() - started;
  await compaction;
  t.false(store.stats().compacting);
  const listed = await store.listFiles();
  t.is(listed.length, before, 'the interrupted compaction must leave the files as they were');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.deepEqual(await store.listFiles(), listed, 'no compaction may run while paused');
  t.true(pauseMs < 1000, `pausing took ${pauseMs.toFixed(0)} ms`);
  t.log(`pauseCompaction() interrupted a running compaction in ${pauseMs.toFixed(1)} ms`);
  store.resumeCompaction();
  await store.close();
});

test('flush, pause, listFiles while writers carry on: the listed files reopen to a consistent state holding every write acknowledged before the flush', async (t) => {
  const dir = await tempDir(t);
  const store = await LsmStore.open(join(dir, 'live'), { memtableBytes: 256 * 1024 });
  const bucket = store.bucket('data');
  let written = 0;
  let stop = false;
  // Writer: put n sets key (n % 5000) to n; a reopened copy must equal the state after some prefix.
  const writer = (async () => {
    while (!stop) {
      const n = written;
      await bucket.put(key(n % 5000), String(n));
      written = n + 1;
    }
  })();
  while (written < 20_000) await new Promise((resolve) => setTimeout(resolve, 5));

  const acknowledgedBeforeFlush = written;
  await store.flush();
  await store.pauseCompaction();
  const files = await store.listFiles();
  const copy = join(dir, 'restored');
  await mkdir(copy);
  for (const file of files) await copyFile(join(store.directory, file.path), join(copy, file.path));
  store.resumeCompaction();
  stop = true;
  await writer;
  t.true(written > acknowledgedBeforeFlush, 'writes went on during the snapshot');

  t.deepEqual((await readdir(copy)).sort(), files.map((f) => f.path).sort());
  const restored = await LsmStore.open(copy);
  const values = new Map<string, number>();
  for await (const entry of restored.bucket('data').scan()) values.set(entry.key.toString(), Number(entry.value));
  const prefix = Math.max(...values.values()) + 1; // the restored state is the state after `prefix` writes
  t.true(prefix >= acknowledgedBeforeFlush, 'a write acknowledged before flush() is missing from the snapshot');
  for (let slot = 0; slot < 5000; slot++) {
    const last = prefix - 1 - ((((prefix - 1 - slot) % 5000) + 5000) % 5000);
    t.is(values.get(key(slot)), last >= 0 ? last : undefined, `key ${slot} is not the state after ${prefix} writes`);
  }
  await restored.close();
  await store.close();
});
