import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { LsmStore } from '../../src/store/index.js';

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

test('compactions of many stores wait their turn in the shared worker, and one aborted while waiting stops cleanly', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'strata-background-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const stores = await Promise.all(
    Array.from({ length: 5 }, (_, n) => LsmStore.open(join(root, `s${n}`), { memtableBytes: 256 * 1024 })),
  );
  for (const store of stores) {
    await store.pauseCompaction();
    const bucket = store.bucket('data');
    for (let i = 0; i < 8_000; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => bucket.put(key(i + j), value)));
      await store.flush();
    }
    store.resumeCompaction();
  }
  // Five at once: two run in the worker, three wait; the last is aborted (by a pause) while waiting.
  const last = stores[4] as LsmStore;
  const segmentsBefore = last.stats().segments.length;
  const compactions = stores.slice(0, 4).map((store) => store.compact());
  const waiting = last.compact().catch((error: unknown) => error);
  await last.pauseCompaction();
  await Promise.all(compactions);
  await waiting;
  for (const store of stores.slice(0, 4)) t.is(store.stats().segments.length, 1);
  t.is(last.stats().segments.length, segmentsBefore, 'the aborted compaction replaced nothing');
  last.resumeCompaction();
  await last.compact();
  t.is(last.stats().segments.length, 1, 'and the store compacts once resumed');
  for (const store of stores) {
    let count = 0;
    for await (const _ of store.bucket('data').scan()) count++;
    t.is(count, 8_000);
    await store.close();
  }
});
