import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { type BudgetedStore, LsmStore, LsmStoreFactory, WriteBudget } from '../../src/store/index.js';
import { CrashableFs } from './helpers/crashable-fs.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Far above the budgets below, so every flush in these tests is the budget's doing. */
const memtableBytes = 64 * MiB;
const key = (i: number) => `key-${String(i).padStart(6, '0')}`;
const value = (store: number, i: number) => `${store}:${i}:`.padEnd(1000, 'x');

async function tempRoot(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'strata-budget-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  return root;
}

/** Writes values `from` to `to` (excluded) to `store` one at a time, so each is a commit group of its own. */
async function write(store: LsmStore, n: number, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await store.bucket('data').put(key(i), value(n, i));
}

/** A stand-in store, to check the budget's choices exactly. */
function fakeStore(active: number, frozen = 0): BudgetedStore & { rotations: number } {
  return {
    rotations: 0,
    activeBytes: () => active,
    frozenBytes: () => frozen,
    rotate() {
      this.rotations++;
    },
  };
}

test('a write budget is a positive integer number of bytes', (t) => {
  for (const bytes of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
    t.throws(() => new WriteBudget(bytes), { instanceOf: RangeError });
  t.is(new WriteBudget(MiB).bytes, MiB);
});

test('the budget rotates the largest active memtable, only once the budget is used up', (t) => {
  const budget = new WriteBudget(1000);
  const small = fakeStore(100);
  const large = fakeStore(500);
  const flushing = fakeStore(0, 300);
  for (const store of [small, large, flushing]) budget.register(store);
  budget.enforce();
  t.is(large.rotations, 0, '900 of 1000 bytes: nothing to do');
  budget.register(fakeStore(200));
  budget.enforce();
  t.deepEqual([small.rotations, large.rotations, flushing.rotations], [0, 1, 0]);
  t.is(budget.usedBytes, 1100);
});

test('the budget rotates nothing while half of it or more is already being flushed', (t) => {
  const budget = new WriteBudget(1000);
  const active = fakeStore(400);
  budget.register(active);
  budget.register(fakeStore(0, 700));
  budget.enforce();
  t.is(active.rotations, 0, 'the 700 frozen bytes free the budget once flushed');
});

test('the budget never rotates an empty memtable', (t) => {
  const budget = new WriteBudget(1);
  const empty = fakeStore(0, 5000);
  budget.register(empty);
  budget.enforce();
  t.is(empty.rotations, 0);
});

test('the stores a factory opens count against its budget, 64 MiB unless given one', async (t) => {
  const root = await tempRoot(t);
  const factory = new LsmStoreFactory({});
  t.is(factory.writeBudget.bytes, 64 * MiB);
  const stores = (await Promise.all([factory.open(join(root, 'a')), factory.open(join(root, 'b'))])) as LsmStore[];
  await Promise.all(stores.map((store, n) => write(store, n, 0, 10)));
  t.is(factory.writeBudget.usedBytes, (stores[0] as LsmStore).stats().memtableBytes * 2);
  await Promise.all(stores.map((store) => store.close()));
  t.is(factory.writeBudget.usedBytes, 0);
});

test('stores sharing a budget keep their memtables together near it, and read everything back after a reopen', async (t) => {
  const budget = new WriteBudget(MiB);
  // Flushes run inline on this filesystem, so how far writes outrun them does not depend on the disk.
  const fs = new CrashableFs();
  const factory = new LsmStoreFactory({ fs, writeBudget: budget, memtableBytes });
  const dirs = [0, 1, 2].map((n) => `/s${n}`);
  const stores = (await Promise.all(dirs.map((dir) => factory.open(dir)))) as LsmStore[];
  // 3,000 values of 1 KB in random order over the three stores: about 3.3 MiB of memtables unbounded.
  const order = [0, 1, 2].flatMap((n) => Array.from({ length: 1000 }, (_, i) => [n, i] as const));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j] as (typeof order)[number], order[i] as (typeof order)[number]];
  }
  let peak = 0;
  for (const [n, i] of order) {
    await (stores[n] as LsmStore).bucket('data').put(key(i), value(n, i));
    const held = stores.reduce((sum, s) => sum + s.stats().memtableBytes + s.stats().frozenMemtableBytes, 0);
    t.is(held, budget.usedBytes);
    peak = Math.max(peak, held);
  }
  t.log(`peak memtable bytes ${peak} for a budget of ${MiB}`);
  // Unbounded, they would hold 3.3 MiB; writes made while a flush runs may take them past the budget a little.
  t.true(peak < 1.25 * MiB, `${peak} bytes held`);
  t.true(
    stores.every((store) => store.stats().segments.length > 0),
    'every store was flushed',
  );
  await Promise.all(stores.map((store) => store.close()));
  t.is(budget.usedBytes, 0);
  for (const [n, dir] of dirs.entries()) {
    const store = await LsmStore.open(dir, { fs });
    for (let i = 0; i < 1000; i++) t.is((await store.bucket('data').get(key(i)))?.toString(), value(n, i));
    await store.close();
  }
});

test('the store holding the largest memtable is flushed, not the one whose write filled the budget', async (t) => {
  const root = await tempRoot(t);
  const budget = new WriteBudget(MiB);
  const [a, b, c] = await Promise.all(
    ['a', 'b', 'c'].map((name) => LsmStore.open(join(root, name), { writeBudget: budget, memtableBytes })),
  );
  if (a === undefined || b === undefined || c === undefined) throw new Error('three stores');
  await write(a, 0, 0, 600);
  await write(b, 1, 0, 100);
  const before = a.stats().memtableBytes;
  let written = 0;
  while (a.stats().memtableBytes > 0 && written < 1000) await write(c, 2, written, ++written);
  t.true(written < 1000, 'the budget rotated a memtable');
  t.true(c.stats().memtableBytes < before, 'the writer held the smaller memtable');
  await a.flush();
  t.deepEqual(
    [a, b, c].map((store) => store.stats().segments.length),
    [1, 0, 0],
  );
  await Promise.all([a, b, c].map((store) => store.close()));
});

test('a closed store no longer counts against the budget, even if it held the largest memtable', async (t) => {
  const root = await tempRoot(t);
  const budget = new WriteBudget(MiB);
  const a = await LsmStore.open(join(root, 'a'), { writeBudget: budget, memtableBytes });
  const b = await LsmStore.open(join(root, 'b'), { writeBudget: budget, memtableBytes });
  await write(a, 0, 0, 800);
  await a.close();
  t.is(budget.usedBytes, 0);
  await write(b, 1, 0, 800);
  t.is(b.stats().segments.length, 0, 'b alone is under the budget');
  t.is(budget.usedBytes, b.stats().memtableBytes);
  await b.close();
});

test('a store whose flush failed no longer counts against the budget, and the others carry on', async (t) => {
  const budget = new WriteBudget(MiB);
  const failing = new CrashableFs();
  const a = await LsmStore.open('/a', { fs: failing, writeBudget: budget, memtableBytes });
  const b = await LsmStore.open('/b', { fs: new CrashableFs(), writeBudget: budget, memtableBytes });
  await write(a, 0, 0, 600);
  // The next write to a's filesystem is the segment of the flush the budget starts.
  failing.failWriteAfter(0);
  let written = 0;
  while (a.stats().memtableBytes > 0 && written < 1000) await write(b, 1, written, ++written);
  await t.throwsAsync(a.flush(), { code: 'STRATA_STORE_FAILED' });
  t.is(budget.usedBytes, b.stats().memtableBytes, "a's frozen memtable, never flushed, is not counted");
  await write(b, 1, written, 800);
  t.is(b.stats().segments.length, 0, 'b alone is under the budget');
  for (let i = 0; i < 800; i++) t.is((await b.bucket('data').get(key(i)))?.toString(), value(1, i));
  await Promise.all([a.close(), b.close()]);
});
