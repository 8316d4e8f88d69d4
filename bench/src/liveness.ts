/**
 * The liveness probe while the largest accepted batches are imported: a `strata serve` child, and
 * two batches that each reach a limit: 100,000 typical objects (as bench:http's, three properties;
 * the count limit) and 64 MiB of objects with 1536-dimension vectors (the body limit), while
 * `GET /v1/.well-known/live` is polled every few milliseconds from a worker thread, so the client's
 * own work (sending the body, receiving the results) does not delay the polls. Reports the probe's
 * latency on the idle node and during each import, and the import's throughput. Target: the probe
 * answers within 50 ms throughout. Run with `npm run bench:liveness` (BENCH_ROUNDS=N imports of
 * each batch, default 3).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { mib, seconds } from './measure.js';
import { api, serve, stop } from './strata-child.js';

/** The node's body limit (BODY_LIMIT_BYTES in core/src/http/server.ts). */
const BODY_LIMIT = 64 * 1024 * 1024;
/** The node's limit of objects in a batch (MAX_BATCH_OBJECTS in core/src/http/schemas/objects.ts). */
const MAX_BATCH_OBJECTS = 100_000;
/** Dimensions of the vectors of the body-limit batch (OpenAI's text-embedding-3-small has 1536). */
const DIMENSIONS = 1536;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** How often the probe is sent; each waits for the previous answer. */
const PROBE_EVERY_MS = 5;
const IDLE_PROBES = 1000;
const TARGET_MS = 50;

interface Probing {
  readonly url: string;
}

/**
 * The worker: probes until told to stop, then posts the latencies (ms). It says when it is ready,
 * after a first probe that is not counted: the first fetch of a thread loads its HTTP client.
 */
async function probe({ url }: Probing): Promise<void> {
  let running = true;
  parentPort?.once('message', () => {
    running = false;
  });
  await (await fetch(`${url}/v1/.well-known/live`)).arrayBuffer();
  parentPort?.postMessage('ready');
  const latencies: number[] = [];
  while (running) {
    const sent = performance.now();
    const response = await fetch(`${url}/v1/.well-known/live`);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`the probe answered ${response.status}`);
    latencies.push(performance.now() - sent);
    const wait = sent + PROBE_EVERY_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  parentPort?.postMessage(latencies);
}

/** Starts a probing worker and waits until it probes; `stop()` resolves with its latencies. */
async function startProbing(url: string): Promise<{ stop(): Promise<number[]> }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { url } satisfies Probing });
  await once(worker, 'message');
  const done = once(worker, 'message');
  return {
    stop: async () => {
      worker.postMessage('stop');
      const [latencies] = await done;
      await worker.terminate();
      return latencies as number[];
    },
  };
}

interface Latency {
  readonly probes: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

function summarise(latencies: number[]): Latency {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number;
  return { probes: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] as number };
}

/** A batch body of objects made by `make`, as many as the count and body limits allow. */
function largestBatch(make: (i: number) => string): { body: Buffer; objects: number } {
  const parts: string[] = [];
  let length = '{"objects":[]}'.length;
  while (parts.length < MAX_BATCH_OBJECTS) {
    const next = make(parts.length);
    if (length + next.length + 1 > BODY_LIMIT) break;
    parts.push(next);
    length += next.length + 1;
  }
  return { body: Buffer.from(`{"objects":[${parts.join(',')}]}`), objects: parts.length };
}

/** The two batches: the most objects a batch may hold, and the most bytes, with vectors. */
const BATCHES: ReadonlyArray<{ readonly name: string; readonly make: (i: number) => string }> = [
  {
    name: 'articles',
    make: (i) =>
      JSON.stringify({
        class: 'Article',
        id: randomUUID(),
        properties: { title: `Article number ${i}`, wordCount: i % 5000, tags: ['bench', `t${i % 10}`] },
      }),
  },
  {
    name: 'with vectors',
    make: (i) =>
      JSON.stringify({
        class: 'Article',
        id: randomUUID(),
        properties: { title: `Article number ${i}`, wordCount: i % 5000, tags: ['bench'] },
        vector: Array.from({ length: DIMENSIONS }, () => Math.random() * 2 - 1),
      }),
  },
];

async function main(): Promise<void> {
  const data = await mkdtemp(join(tmpdir(), 'bench-liveness-'));
  const node = await serve(data, {});
  try {
    await api(node, 'POST', '/v1/schema', {
      class: 'Article',
      properties: [
        { name: 'title', dataType: ['text'] },
        { name: 'wordCount', dataType: ['int'] },
        { name: 'tags', dataType: ['text[]'] },
      ],
    });
    const idleProbing = await startProbing(node.url);
    await new Promise((resolve) => setTimeout(resolve, IDLE_PROBES * PROBE_EVERY_MS));
    const idle = summarise(await idleProbing.stop());

    const rows: Array<{ name: string; latency: Latency; ms: number; objects: number; bytes: number }> = [];
    for (let round = 0; round < ROUNDS * BATCHES.length; round++) {
      const batch = BATCHES[round % BATCHES.length] as (typeof BATCHES)[number];
      // A fresh body each round: new ids, so every round writes as many objects.
      const { body, objects } = largestBatch(batch.make);
      const probing = await startProbing(node.url);
      const started = performance.now();
      const response = await fetch(`${node.url}/v1/batch/objects`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const reply = await response.arrayBuffer();
      const ms = performance.now() - started;
      const latency = summarise(await probing.stop());
      if (response.status !== 200) throw new Error(`the batch answered ${response.status}: ${Buffer.from(reply)}`);
      rows.push({ name: batch.name, latency, ms, objects, bytes: body.length });
    }

    const row = (what: string, l: Latency, extra: string) =>
      `| ${what} | ${l.probes} | ${l.p50.toFixed(1)} | ${l.p99.toFixed(1)} | ${l.max.toFixed(1)} | ${extra} |`;
    console.log(`Liveness during the largest batches; Node ${process.version}\n`);
    console.log('| while | probes | p50 (ms) | p99 (ms) | max (ms) | import |');
    console.log('|---|---:|---:|---:|---:|---|');
    console.log(row('idle', idle, ''));
    for (const [i, { name, latency, ms, objects, bytes }] of rows.entries()) {
      const rate = Math.round(objects / (ms / 1000)).toLocaleString('en');
      const detail = `${objects.toLocaleString('en')} objects, ${mib(bytes)} in ${seconds(ms)}: ${rate} objects/s`;
      console.log(row(`import ${i + 1} (${name})`, latency, detail));
    }
    const worst = Math.max(...rows.map((r) => r.latency.max));
    console.log(
      `\nWorst probe during an import: ${worst.toFixed(1)} ms (target <= ${TARGET_MS} ms: ${worst <= TARGET_MS ? 'met' : 'not met'})`,
    );
  } finally {
    await stop(node);
    await rm(data, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await probe(workerData as Probing);
