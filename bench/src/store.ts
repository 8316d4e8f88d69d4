/**
 * Strata's LSM store side by side with LevelDB (classic-level), same machine, same process, same
 * workload: 100-byte values under 16-byte keys. Run with `pnpm bench:store` (BENCH_KEYS=N to change
 * the key count, default 1,000,000). Prints a markdown table of throughput and the ratio
 * Strata / LevelDB, then put latency percentiles with and without a compaction running.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LsmStore } from '@strata/core/store';
import { ClassicLevel } from 'classic-level';

const N = Number(process.env.BENCH_KEYS ?? 1_000_000);
const BATCH = 1000;
const LOOKUPS = Math.min(N, 200_000);
const SHORT_SCANS = 10_000;
const VALUE = randomBytes(100);

const key = (i: number) => Buffer.from(`key-${String(i).padStart(12, '0')}`);
const missingKey = (i: number) => Buffer.from(`key-${String(i).padStart(12, '0')}x`);

/** 0..n-1 in a fixed pseudo-random order (Fisher-Yates with a fixed-seed xorshift). */
function shuffled(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let seed = 0x9e3779b9;
  for (let i = n - 1; i > 0; i--) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const j = (seed >>> 0) % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}
const randomOrder = shuffled(N);

/** What a workload needs from an engine. */
interface Db {
  put(k: Buffer, v: Buffer): Promise<void>;
  batch(keys: Buffer[], v: Buffer): Promise<void>;
  get(k: Buffer): Promise<Buffer | undefined>;
  scan(from: Buffer, limit: number): AsyncIterable<unknown>;
  settle(): Promise<void>;
  close(): Promise<void>;
}

interface Engine {
  readonly name: string;
  open(dir: string): Promise<Db>;
}

const strata: Engine = {
  name: 'Strata',
  async open(dir) {
    const store = await LsmStore.open(dir);
    const bucket = store.bucket('bench');
    return {
      put: (k, v) => bucket.put(k, v),
      batch: (keys, v) => store.batch(keys.map((k) => ({ type: 'put' as const, bucket: 'bench', key: k, value: v }))),
      get: (k) => bucket.get(k),
      scan: (from, limit) => bucket.scan({ gte: from, limit }),
      async settle() {
        await store.flush();
        while (store.stats().compacting) await new Promise((resolve) => setTimeout(resolve, 20));
      },
      close: () => store.close(),
    };
  },
};

const leveldb: Engine = {
  name: 'LevelDB',
  async open(dir) {
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return {
      put: (k, v) => db.put(k, v),
      batch: (keys, v) => db.batch(keys.map((k) => ({ type: 'put' as const, key: k, value: v }))),
      get: (k) => db.get(k),
      scan: (from, limit) => db.iterator({ gte: from, limit }),
      async settle() {
        await db.compactRange(key(0), key(N));
      },
      close: () => db.close(),
    };
  },
};

/** A measured workload: runs against a fresh or preloaded database and returns the operations done. */
interface Workload {
  readonly name: string;
  readonly preload: boolean;
  run(db: Db): Promise<number>;
}

async function load(db: Db, order: (i: number) => number): Promise<void> {
  for (let i = 0; i < N; i += BATCH) {
    const keys: Buffer[] = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) keys.push(key(order(j)));
    await db.batch(keys, VALUE);
  }
}

const workloads: Workload[] = [
  {
    name: 'sequential puts, one at a time',
    preload: false,
    async run(db) {
      for (let i = 0; i < N; i++) await db.put(key(i), VALUE);
      return N;
    },
  },
  {
    name: `sequential puts, batches of ${BATCH}`,
    preload: false,
    async run(db) {
      await load(db, (i) => i);
      return N;
    },
  },
  {
    name: 'random puts, one at a time',
    preload: false,
    async run(db) {
      for (let i = 0; i < N; i++) await db.put(key(randomOrder[i] as number), VALUE);
      return N;
    },
  },
  {
    name: `random puts, batches of ${BATCH}`,
    preload: false,
    async run(db) {
      await load(db, (i) => randomOrder[i] as number);
      return N;
    },
  },
  {
    name: 'random gets, hits',
    preload: true,
    async run(db) {
      for (let i = 0; i < LOOKUPS; i++) {
        if ((await db.get(key(randomOrder[i] as number))) === undefined) throw new Error('a loaded key is missing');
      }
      return LOOKUPS;
    },
  },
  {
    name: 'random gets, misses',
    preload: true,
    async run(db) {
      for (let i = 0; i < LOOKUPS; i++) {
        if ((await db.get(missingKey(randomOrder[i] as number))) !== undefined) throw new Error('found an absent key');
      }
      return LOOKUPS;
    },
  },
  {
    name: 'range scan, all keys',
    preload: true,
    async run(db) {
      let count = 0;
      for await (const _ of db.scan(key(0), N)) count++;
      if (count !== N) throw new Error(`scanned ${count} of ${N}`);
      return count;
    },
  },
  {
    name: `range scans, ${SHORT_SCANS} of 100 keys`,
    preload: true,
    async run(db) {
      let count = 0;
      for (let i = 0; i < SHORT_SCANS; i++) {
        for await (const _ of db.scan(key(randomOrder[i] as number), 100)) count++;
      }
      return count;
    },
  },
];

async function measure(engine: Engine, workload: Workload): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), `bench-${engine.name.toLowerCase()}-`));
  try {
    let db = await engine.open(dir);
    if (workload.preload) {
      await load(db, (i) => randomOrder[i] as number);
      await db.close();
      db = await engine.open(dir);
      await db.settle();
    }
    const started = performance.now();
    const operations = await workload.run(db);
    const seconds = (performance.now() - started) / 1000;
    await db.close();
    return operations / seconds;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;

/** p50/p99/max of single put latency (ms), with compaction paused and while a full compaction runs. */
async function latencyDuringCompaction(): Promise<
  Record<string, { p50: number; p99: number; max: number; puts: number }>
> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-latency-'));
  try {
    const store = await LsmStore.open(dir, { memtableBytes: 4 * 1024 * 1024 });
    const bucket = store.bucket('bench');
    await store.pauseCompaction();
    for (let i = 0; i < N; i += BATCH) {
      await store.batch(
        Array.from({ length: BATCH }, (_, j) => ({
          type: 'put' as const,
          bucket: 'bench',
          key: key(randomOrder[i + j] ?? 0),
          value: VALUE,
        })),
      );
    }
    await store.flush();
    const sample = async (keepGoing: () => boolean, limit: number) => {
      const latencies: number[] = [];
      for (let i = 0; keepGoing() && i < limit; i++) {
        const started = performance.now();
        await bucket.put(missingKey(i), VALUE);
        latencies.push(performance.now() - started);
      }
      const sorted = Float64Array.from(latencies).sort();
      return {
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        max: sorted[sorted.length - 1] as number,
        puts: sorted.length,
      };
    };
    const without = await sample(() => true, 100_000);
    store.resumeCompaction();
    const compaction = store.compact();
    while (!store.stats().compacting) await new Promise((resolve) => setImmediate(resolve));
    const during = await sample(() => store.stats().compacting, 1_000_000);
    await compaction;
    await store.close();
    return { 'compaction paused': without, 'during a full compaction': during };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`Store benchmark: ${N.toLocaleString('en')} keys, 100-byte values, Node ${process.version}\n`);
console.log('| workload | LevelDB (ops/s) | Strata (ops/s) | Strata / LevelDB |');
console.log('|---|---:|---:|---:|');
for (const workload of workloads) {
  const level = await measure(leveldb, workload);
  const ours = await measure(strata, workload);
  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  console.log(`| ${workload.name} | ${fmt(level)} | ${fmt(ours)} | ${(ours / level).toFixed(2)}x |`);
}

console.log('\nStrata put latency (ms), one put at a time:\n');
console.log('| while | puts | p50 | p99 | max |');
console.log('|---|---:|---:|---:|---:|');
const latency = await latencyDuringCompaction();
for (const [when, { p50, p99, max, puts }] of Object.entries(latency)) {
  console.log(`| ${when} | ${puts.toLocaleString('en')} | ${p50.toFixed(3)} | ${p99.toFixed(3)} | ${max.toFixed(2)} |`);
}
const ratio = (latency['during a full compaction']?.p99 ?? 0) / (latency['compaction paused']?.p99 ?? 1);
console.log(`\np99 during compaction / p99 without: ${ratio.toFixed(2)}x`);
