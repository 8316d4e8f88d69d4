/**
 * A cluster side by side with one node, on the same machine, with the same client and objects:
 * batch import through a 3-node cluster (each batch sent to node1, which splits it by owner) against
 * one single node (no etcd), and GET by id through a node that does not own the object against one
 * through the owner (the routing hop). Every node is a `strata serve` process. Run with
 * `npm run bench:cluster` (BENCH_OBJECTS=N, default 60,000; BENCH_ROUNDS=N, default 2).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterNode, startCluster } from '@strata/testing';
import { serve, stop } from './strata-child.js';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 60_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BATCH = 1000;
const CLIENTS = 4;
const GETS = 5000;

/** A node as the benchmark talks to it. */
interface Target {
  readonly url: string;
}

const article = (i: number) => ({
  class: 'Article',
  id: randomUUID(),
  properties: { title: `Article number ${i}`, wordCount: i % 5000, tags: ['bench', `t${i % 10}`] },
});

async function call(target: Target, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${target.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return text === '' ? undefined : JSON.parse(text);
}

async function createClass(target: Target, className: string, shards?: number): Promise<void> {
  await call(target, 'POST', '/v1/schema', {
    class: className,
    properties: [
      { name: 'title', dataType: ['text'] },
      { name: 'wordCount', dataType: ['int'] },
      { name: 'tags', dataType: ['text[]'] },
    ],
    ...(shards === undefined ? {} : { shardingConfig: { desiredCount: shards } }),
  });
}

/** Imports `objects` through `target` in batches, CLIENTS at a time; resolves with the milliseconds. */
async function importAll(target: Target, objects: readonly ReturnType<typeof article>[]): Promise<number> {
  const batches: (typeof objects)[] = [];
  for (let i = 0; i < objects.length; i += BATCH) batches.push(objects.slice(i, i + BATCH));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < batches.length) {
        const results = (await call(target, 'POST', '/v1/batch/objects', { objects: batches[next++] })) as {
          result: { errors?: unknown };
        }[];
        if (results.some((r) => r.result.errors !== undefined)) throw new Error('a batch object failed');
      }
    }),
  );
  return performance.now() - started;
}

/** GETs each id once through `target`, one at a time; resolves with the median latency in ms. */
async function medianGet(target: Target, className: string, ids: readonly string[]): Promise<number> {
  const times: number[] = [];
  for (const id of ids) {
    const started = performance.now();
    await call(target, 'GET', `/v1/objects/${className}/${id}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

async function singleNodeImport(): Promise<number> {
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-bench-single-'));
  const child = await serve(dataPath, {});
  try {
    await createClass(child, 'Article');
    return await importAll(
      child,
      Array.from({ length: OBJECTS }, (_, i) => article(i)),
    );
  } finally {
    await stop(child);
    await rm(dataPath, { recursive: true, force: true });
  }
}

async function clusterRun(round: number): Promise<{ importMs: number; ownerMs: number; otherMs: number }> {
  const cluster = await startCluster({ nodes: 3 });
  try {
    const [node1] = cluster.nodes as [ClusterNode];
    await createClass(node1, 'Article');
    const importMs = await importAll(
      node1,
      Array.from({ length: OBJECTS }, (_, i) => article(i)),
    );
    // One shard: its owner answers a GET itself, the other nodes route it there.
    const className = `Single${round}`;
    await createClass(node1, className, 1);
    const objects = Array.from({ length: GETS }, (_, i) => ({ ...article(i), class: className }));
    await importAll(node1, objects);
    const nodes = (await call(node1, 'GET', `/v1/nodes/${className}?output=verbose`)) as {
      nodes: { name: string; shards?: unknown[] }[];
    };
    const ownerName = nodes.nodes.find((n) => (n.shards?.length ?? 0) > 0)?.name;
    const owner = cluster.nodes.find((n) => n.name === ownerName) as ClusterNode;
    const other = cluster.nodes.find((n) => n.name !== ownerName) as ClusterNode;
    const ids = objects.map((o) => o.id);
    await medianGet(owner, className, ids.slice(0, 200)); // warm both paths
    await medianGet(other, className, ids.slice(0, 200));
    const ownerMs = await medianGet(owner, className, ids);
    const otherMs = await medianGet(other, className, ids);
    return { importMs, ownerMs, otherMs };
  } finally {
    await cluster.stop();
  }
}

console.log(`# Cluster vs single node: ${OBJECTS} objects in batches of ${BATCH}, ${CLIENTS} clients, ${GETS} GETs`);
console.log(`(${cpus().length} cores; best of ${ROUNDS} rounds; every node a process of its own on this machine)\n`);
let single = Number.POSITIVE_INFINITY;
let best = { importMs: Number.POSITIVE_INFINITY, ownerMs: Number.POSITIVE_INFINITY, otherMs: Number.POSITIVE_INFINITY };
for (let round = 0; round < ROUNDS; round++) {
  single = Math.min(single, await singleNodeImport());
  const run = await clusterRun(round);
  best = {
    importMs: Math.min(best.importMs, run.importMs),
    ownerMs: Math.min(best.ownerMs, run.ownerMs),
    otherMs: Math.min(best.otherMs, run.otherMs),
  };
}
const rate = (ms: number) => `${Math.round((OBJECTS / ms) * 1000).toLocaleString('en')} objects/s`;
console.log('| Measure | Cluster | Single node / owner | Ratio |');
console.log('|---|---|---|---|');
console.log(
  `| Batch import through node1 of 3 vs one node | ${rate(best.importMs)} | ${rate(single)} | **${(single / best.importMs).toFixed(2)}** (cluster throughput / single node's) |`,
);
console.log(
  `| GET by id, median: through a non-owner vs through the owner | ${best.otherMs.toFixed(2)} ms | ${best.ownerMs.toFixed(2)} ms | **${(best.otherMs / best.ownerMs).toFixed(2)}** (non-owner latency / owner's) |`,
);
