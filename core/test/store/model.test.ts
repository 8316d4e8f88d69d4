import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { memfs } from 'memfs';
import { LsmStore, type LsmStoreOptions } from '../../src/store/index.js';
import type { StoreFs } from '../../src/store/vfs.js';

/**
 * Model-based test: random sequences of puts, deletes, batches, gets, scans, flushes, compactions and
 * reopenings run against the store and against a Map per bucket; every read must agree. A tiny
 * memtable makes flushes and background compactions happen all the time.
 */

type Model = Map<string, Map<string, string>>;
interface Real {
  store: LsmStore;
  readonly reopen: () => Promise<void>;
}

const buckets = ['objects', 'index'];
const keyArb = fc.constantFrom(...Array.from({ length: 24 }, (_, i) => `k${i.toString(36)}`), 'k', 'k0a', '');
const valueArb = fc.oneof(
  { weight: 8, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 5000, maxLength: 6000 }) },
);
const bucketArb = fc.constantFrom(...buckets);

const modelOf = (model: Model, bucket: string) => {
  const map = model.get(bucket) ?? new Map<string, string>();
  model.set(bucket, map);
  return map;
};
const sorted = (map: Map<string, string>) =>
  [...map.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

class Put implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly bucket: string,
    readonly key: string,
    readonly value: string,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    await real.store.bucket(this.bucket).put(this.key, this.value);
    modelOf(model, this.bucket).set(this.key, this.value);
  }
  toString = () => `put(${this.bucket}, ${JSON.stringify(this.key)}, ${this.value.length} chars)`;
}

class Delete implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly bucket: string,
    readonly key: string,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    await real.store.bucket(this.bucket).delete(this.key);
    modelOf(model, this.bucket).delete(this.key);
  }
  toString = () => `delete(${this.bucket}, ${JSON.stringify(this.key)})`;
}

class Batch implements fc.AsyncCommand<Model, Real> {
  constructor(readonly operations: ReadonlyArray<{ bucket: string; key: string; value: string | null }>) {}
  check = () => true;
  async run(model: Model, real: Real) {
    await real.store.batch(
      this.operations.map(({ bucket, key, value }) =>
        value === null ? { type: 'delete' as const, bucket, key } : { type: 'put' as const, bucket, key, value },
      ),
    );
    for (const { bucket, key, value } of this.operations) {
      if (value === null) modelOf(model, bucket).delete(key);
      else modelOf(model, bucket).set(key, value);
    }
  }
  toString = () => `batch(${this.operations.length} ops)`;
}

class Get implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly bucket: string,
    readonly key: string,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const actual = (await real.store.bucket(this.bucket).get(this.key))?.toString();
    const expected = modelOf(model, this.bucket).get(this.key);
    if (actual !== expected) throw new Error(`get(${this.bucket}, ${this.key}) = ${actual}, expected ${expected}`);
  }
  toString = () => `get(${this.bucket}, ${JSON.stringify(this.key)})`;
}

class Scan implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly bucket: string,
    readonly gte: string,
    readonly limit: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const actual: string[] = [];
    for await (const { key, value } of real.store.bucket(this.bucket).scan({ gte: this.gte, limit: this.limit })) {
      actual.push(`${key}=${value.length}`);
    }
    const expected = sorted(modelOf(model, this.bucket))
      .filter(([key]) => Buffer.compare(Buffer.from(key), Buffer.from(this.gte)) >= 0)
      .slice(0, this.limit)
      .map(([key, value]) => `${key}=${Buffer.byteLength(value)}`);
    if (actual.join() !== expected.join()) throw new Error(`scan: got ${actual}, expected ${expected}`);
  }
  toString = () => `scan(${this.bucket}, gte ${JSON.stringify(this.gte)}, limit ${this.limit})`;
}

class Flush implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  run = async (_: Model, real: Real) => real.store.flush();
  toString = () => 'flush()';
}

class Compact implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  run = async (_: Model, real: Real) => real.store.compact();
  toString = () => 'compact()';
}

class Reopen implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  run = async (_: Model, real: Real) => real.reopen();
  toString = () => 'reopen()';
}

const commands = [
  fc.tuple(bucketArb, keyArb, valueArb).map(([b, k, v]) => new Put(b, k, v)),
  fc.tuple(bucketArb, keyArb).map(([b, k]) => new Delete(b, k)),
  fc
    .array(fc.record({ bucket: bucketArb, key: keyArb, value: fc.option(fc.string({ maxLength: 30 })) }), {
      minLength: 1,
      maxLength: 8,
    })
    .map((ops) => new Batch(ops)),
  fc.tuple(bucketArb, keyArb).map(([b, k]) => new Get(b, k)),
  fc.tuple(bucketArb, keyArb, fc.integer({ min: 1, max: 30 })).map(([b, k, n]) => new Scan(b, k, n)),
  fc.constant(new Flush()),
  fc.constant(new Compact()),
  fc.constant(new Reopen()),
];

async function check(dir: string, options: LsmStoreOptions, runs: number) {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 200, size: 'max' }), fc.nat(), async (sequence, n) => {
      const path = join(dir, `run-${n}-${Math.random().toString(36).slice(2)}`);
      const real: Real = {
        store: await LsmStore.open(path, options),
        async reopen() {
          await this.store.close();
          this.store = await LsmStore.open(path, options);
        },
      };
      const model: Model = new Map();
      try {
        await fc.asyncModelRun(() => ({ model, real }), sequence);
        // After a final reopen, every bucket still holds exactly the model's entries.
        await real.reopen();
        for (const bucket of buckets) await new Scan(bucket, '', 1000).run(model, real);
      } finally {
        await real.store.close();
      }
    }),
    { numRuns: runs },
  );
}

test('the store agrees with a Map model on memfs (flushes and compactions inline)', async (t) => {
  const { fs } = memfs({ '/model': null });
  await check('/model', { fs: fs as unknown as StoreFs, memtableBytes: 2048, sync: { mode: 'flush' } }, 150);
  t.pass();
});

test('the store agrees with a Map model on disk (flushes and compactions in worker threads)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-model-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await check(dir, { memtableBytes: 8192 }, 10);
  t.pass();
});
