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
