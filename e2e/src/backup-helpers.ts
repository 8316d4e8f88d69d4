/** What the cluster backup tests share: classes spread over the nodes, writers, status polling, the bucket's keys. */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BackupBackend } from '@strata/core';
import { type ClusterNode, loadModule, type Reply } from '@strata/testing';
import { importBatches, pageAll, waitFor } from './cluster-helpers.js';

/** Three classes, spread over three nodes as their shard counts say. */
export const SPREAD_CLASSES = [
  { class: 'Article', shards: 3 },
  { class: 'Note', shards: 2 },
  { class: 'Tag', shards: 1 },
] as const;

export const FINISHED = ['SUCCESS', 'FAILED', 'CANCELED'];

/** Creates the {@link SPREAD_CLASSES} through `node`. */
export async function createSpreadClasses(node: ClusterNode): Promise<void> {
  for (const { class: name, shards } of SPREAD_CLASSES) {
    const reply = await node.request('POST', '/v1/schema', {
      class: name,
      properties: [
        { name: 'title', dataType: ['text'] },
        { name: 'n', dataType: ['int'] },
      ],
      shardingConfig: { desiredCount: shards },
    });
    if (reply.status !== 200) throw new Error(`create ${name}: ${reply.status} ${JSON.stringify(reply.body)}`);
  }
}

/** `count` objects of `className`, with random ids, `tag` in their titles. */
export function objectsOf(className: string, count: number, tag = 'seed') {
  return Array.from({ length: count }, (_, n) => ({
    class: className,
    id: randomUUID(),
    properties: { title: `${tag} ${className} ${n}`, n },
  }));
}

/** Imports `perClass` objects into each spread class through `node`; returns them by id. */
export async function seedSpread(node: ClusterNode, perClass: number): Promise<Map<string, unknown>> {
  const written = new Map<string, unknown>();
  for (const { class: name } of SPREAD_CLASSES) {
    const objects = objectsOf(name, perClass);
    const statuses = await importBatches(node, objects, 500);
    if (statuses.some((status) => status !== 'SUCCESS')) throw new Error(`seed ${name}: ${statuses.join(',')}`);
    for (const object of objects) written.set(object.id, object);
  }
  return written;
}

/**
 * Writes small batches through each node in turn until stopped: what the cluster keeps serving while
 * a backup runs. Resolves (on stop) with what it wrote and how many writes failed.
 */
export function startWriters(nodes: readonly ClusterNode[]) {
  const written = new Map<string, unknown>();
  let failed = 0;
  let stopped = false;
  const done = (async () => {
    for (let round = 0; !stopped; round++) {
      const node = nodes[round % nodes.length] as ClusterNode;
      const { class: name } = SPREAD_CLASSES[round % SPREAD_CLASSES.length] as (typeof SPREAD_CLASSES)[number];
      const objects = objectsOf(name, 10, `write ${round}`);
      try {
        const statuses = await importBatches(node, objects);
        for (const [i, status] of statuses.entries()) {
          if (status === 'SUCCESS') written.set(objects[i]?.id as string, objects[i]);
          else failed += 1;
        }
      } catch {
        failed += objects.length;
      }
      await sleep(5);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return { written, failed };
    },
  };
}

/** Polls `path` on `node` until its status is finished; returns the reply's body. */
export function finished(node: ClusterNode, path: string, timeoutMs = 60_000): Promise<Reply['body']> {
  return waitFor(`${path} on ${node.name}`, timeoutMs, async () => {
    const { status, body } = await node.request('GET', path);
    return status === 200 && FINISHED.includes(body.status) ? body : undefined;
  });
}

/** Every object of every spread class through `node`, by id, as the API returns them. */
export async function readSpread(node: ClusterNode): Promise<Map<string, Reply['body']>> {
  const objects = new Map<string, Reply['body']>();
  for (const { class: name } of SPREAD_CLASSES) {
    for (const object of await pageAll(node, name, 500)) objects.set(object.id, object);
  }
  return objects;
}

/** The backup-s3 module, loaded as a node loads it, to read what a backup left in the bucket. */
export async function s3Backend(
  env: Record<string, string>,
): Promise<{ backend: BackupBackend; close(): Promise<void> }> {
  const require = createRequire(import.meta.url);
  const moduleDir = dirname(require.resolve('@strata/backup-s3/package.json'));
  const { backend, close } = await loadModule(moduleDir, env);
  return { backend, close };
}

/** Every key under `prefix` in `backend`. */
export async function keysUnder(backend: BackupBackend, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of backend.list(prefix)) keys.push(object.key);
  return keys.sort();
}

/** The JSON object under `key`. */
export async function readJson(backend: BackupBackend, key: string): Promise<Reply['body']> {
  const chunks: Buffer[] = [];
  for await (const chunk of await backend.read(key)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** Downloads every object under `prefix` into `dir`, laid out by key: what `aws s3 cp --recursive` does. */
export async function download(backend: BackupBackend, prefix: string, dir: string): Promise<void> {
  for (const key of await keysUnder(backend, prefix)) {
    const file = join(dir, ...key.split('/'));
    await mkdir(dirname(file), { recursive: true });
    await pipeline(await backend.read(key), createWriteStream(file));
  }
}
