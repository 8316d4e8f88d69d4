/**
 * Strata's REST API side by side with a bare-bones peer: a minimal Fastify server that writes the
 * same batches straight into LevelDB (classic-level) without schema, validation or sharding. Same
 * process, same client, same objects. Measures batch import throughput (objects/s) and GET-by-id
 * latency. Run with `npm run bench:http` (BENCH_OBJECTS=N to change the object count, default 100,000).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, StrataNode } from '@strata/core/node';
import { ClassicLevel } from 'classic-level';
import Fastify from 'fastify';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 100_000);
const BATCH = 100;
const CLIENTS = 4;
const GETS = Math.min(OBJECTS, 20_000);

interface Server {
  readonly name: string;
  readonly url: string;
  stop(): Promise<void>;
}

const article = (i: number) => ({
  class: 'Article',
  id: randomUUID(),
  properties: { title: `Article number ${i}`, wordCount: i % 5000, tags: ['bench', `t${i % 10}`] },
});

async function startStrata(dir: string): Promise<Server> {
  const node = await StrataNode.start({ env: { PERSISTENCE_DATA_PATH: dir }, port: 0, logger: createLogger('silent') });
  await fetch(`${node.url}/v1/schema`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      class: 'Article',
      properties: [
        { name: 'title', dataType: ['text'] },
        { name: 'wordCount', dataType: ['int'] },
        { name: 'tags', dataType: ['text[]'] },
      ],
    }),
  });
  return { name: 'Strata', url: node.url, stop: () => node.stop() };
}

/** The peer: JSON in, LevelDB batch, JSON out; nothing else. */
async function startPeer(dir: string): Promise<Server> {
  const db = new ClassicLevel<string, string>(dir);
  await db.open();
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
  app.post<{ Body: { objects: Array<{ class: string; id?: string; properties: object }> } }>(
    '/v1/batch/objects',
    async (request) => {
      const now = Date.now();
      const objects = request.body.objects.map((o) => ({
        ...o,
        id: o.id ?? randomUUID(),
        creationTimeUnix: now,
        lastUpdateTimeUnix: now,
      }));
      await db.batch(
        objects.map((o) => ({ type: 'put' as const, key: `${o.class}/${o.id}`, value: JSON.stringify(o) })),
      );
      return objects.map((o) => ({ ...o, result: { status: 'SUCCESS' } }));
    },
  );
  app.get<{ Params: { className: string; id: string } }>('/v1/objects/:className/:id', async (request, reply) => {
    const value = await db.get(`${request.params.className}/${request.params.id}`);
    return value === undefined ? reply.status(404).send() : JSON.parse(value);
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    name: 'Fastify + LevelDB',
    url,
    stop: async () => {
      await app.close();
      await db.close();
    },
  };
}

/** Imports every object in batches from CLIENTS concurrent clients; returns objects/s and the ids. */
async function importAll(server: Server): Promise<{ rate: number; ids: string[] }> {
  const objects = Array.from({ length: OBJECTS }, (_, i) => article(i));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < objects.length) {
        const batch = objects.slice(next, next + BATCH);
        next += BATCH;
        const response = await fetch(`${server.url}/v1/batch/objects`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ objects: batch }),
        });
        if (!response.ok) throw new Error(`${server.name}: batch answered ${response.status}`);
        await response.arrayBuffer();
      }
    }),
  );
  return { rate: OBJECTS / ((performance.now() - started) / 1000), ids: objects.map((o) => o.id) };
}

/** GETs random objects one at a time; returns latency percentiles in ms. */
async function getLatency(server: Server, ids: string[]): Promise<{ p50: number; p99: number; getRate: number }> {
  const latencies = new Float64Array(GETS);
  const started = performance.now();
  for (let i = 0; i < GETS; i++) {
    const id = ids[(i * 7919) % ids.length] as string;
    const before = performance.now();
    const response = await fetch(`${server.url}/v1/objects/Article/${id}`);
    if (response.status !== 200) throw new Error(`${server.name}: GET answered ${response.status}`);
    await response.arrayBuffer();
    latencies[i] = performance.now() - before;
  }
  const getRate = GETS / ((performance.now() - started) / 1000);
  latencies.sort();
  return {
    p50: latencies[Math.floor(GETS * 0.5)] as number,
    p99: latencies[Math.floor(GETS * 0.99)] as number,
    getRate,
  };
}

async function measure(start: (dir: string) => Promise<Server>) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-http-'));
  const server = await start(dir);
  try {
    const { rate, ids } = await importAll(server);
    return { name: server.name, importRate: rate, ...(await getLatency(server, ids)) };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(
  `HTTP benchmark: ${OBJECTS.toLocaleString('en')} objects in batches of ${BATCH} from ${CLIENTS} clients, then ${GETS.toLocaleString('en')} GETs one at a time; Node ${process.version}\n`,
);
const peer = await measure(startPeer);
const strata = await measure(startStrata);
const fmt = (n: number) => Math.round(n).toLocaleString('en');
console.log('| server | batch import (objects/s) | GET (requests/s) | GET p50 (ms) | GET p99 (ms) |');
console.log('|---|---:|---:|---:|---:|');
for (const r of [peer, strata]) {
  console.log(`| ${r.name} | ${fmt(r.importRate)} | ${fmt(r.getRate)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} |`);
}
console.log(
  `\nStrata / peer: import ${(strata.importRate / peer.importRate).toFixed(2)}x, GET ${(strata.getRate / peer.getRate).toFixed(2)}x, GET p99 ${(strata.p99 / peer.p99).toFixed(2)}x`,
);
