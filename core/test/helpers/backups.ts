import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Reply, startNode, type TestNode } from './node.js';

/** The workspace's filesystem provider, enabled by path as ENABLE_MODULES allows. */
export const filesystemModule = fileURLToPath(new URL('../../../../modules/backup-filesystem', import.meta.url));

/** A node with backup-filesystem enabled, backing up into `backups`. */
export interface BackupNode extends TestNode {
  readonly backups: string;
}

export async function startBackupNode(
  t: { teardown(fn: () => Promise<void>): void },
  env: Record<string, string> = {},
  options: { dataPath?: string; backups?: string } = {},
): Promise<BackupNode> {
  let backups = options.backups;
  if (backups === undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'strata-backups-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    backups = dir;
  }
  const node = await startNode(
    t,
    { ENABLE_MODULES: filesystemModule, BACKUP_FILESYSTEM_PATH: backups, ...env },
    options.dataPath === undefined ? {} : { dataPath: options.dataPath },
  );
  return { ...node, backups };
}

const FINISHED = new Set(['SUCCESS', 'FAILED', 'CANCELED']);

/** Polls a backup or restore status until it is finished; returns the last reply. */
export async function waitFor(node: TestNode, path: string, timeoutMs = 60_000): Promise<Reply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await node.request('GET', path);
    if (reply.status !== 200 || FINISHED.has(reply.body.status)) return reply;
    if (Date.now() > deadline) throw new Error(`${path} still ${reply.body.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Creates class `name` with `shards` shards and `count` objects; returns them by id. */
export async function seed(
  node: TestNode,
  name: string,
  count: number,
  shards = 1,
): Promise<Map<string, Record<string, unknown>>> {
  const created = await node.request('POST', '/v1/schema', {
    class: name,
    properties: [
      { name: 'title', dataType: ['text'] },
      { name: 'rank', dataType: ['int'] },
      { name: 'tags', dataType: ['text[]'] },
    ],
    shardingConfig: { desiredCount: shards },
  });
  if (created.status !== 200) throw new Error(`creating ${name}: ${JSON.stringify(created.body)}`);
  const objects = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < count; i += 500) {
    const batch = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
      class: name,
      properties: {
        title: `${name} ${i + j}: ${'lorem ipsum '.repeat((i + j) % 7)}`,
        rank: i + j,
        tags: [`t${(i + j) % 5}`],
      },
      vector: [(i + j) / count, 0.5],
    }));
    const reply = await node.request('POST', '/v1/batch/objects', { objects: batch });
    for (const { result, ...object } of reply.body) {
      if (result.status !== 'SUCCESS') throw new Error(`seeding ${name}: ${JSON.stringify(result)}`);
      objects.set(object.id, object);
    }
  }
  // In id order, the order readAll returns them in, so the two compare equal.
  return new Map([...objects].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Every object of a class, by id, read page by page. */
export async function readAll(node: TestNode, name: string): Promise<Map<string, Record<string, unknown>>> {
  const objects = new Map<string, Record<string, unknown>>();
  for (let after: string | undefined; ; ) {
    const page = await node.request(
      'GET',
      `/v1/objects?class=${name}&limit=1000&include=vector${after === undefined ? '' : `&after=${after}`}`,
    );
    if (page.status !== 200) throw new Error(`listing ${name}: ${JSON.stringify(page.body)}`);
    if (page.body.objects.length === 0) return objects;
    for (const object of page.body.objects) objects.set(object.id, object);
    after = page.body.objects[page.body.objects.length - 1].id;
  }
}

/** A promise a test opens when it chooses: `opened` resolves once `open()` is called. */
export function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * Holds every chunk upload (or download) of the node's filesystem backend until it is aborted (a
 * cancel or a stop) or released, so a test can act while a backup (or restore) is certainly
 * TRANSFERRING. Descriptors pass as usual. `reached` resolves when the first chunk is held;
 * `unhold()` lets later ones through; `release()` also lets the held ones go on, as if the storage
 * had only been slow.
 */
export function holdChunks(
  node: TestNode,
  method: 'write' | 'read',
): { reached: Promise<void>; unhold(): void; release(): void } {
  const backend = node.node.modules.backend('filesystem');
  const original = backend[method];
  const reached = gate();
  const released = gate();
  const held = async (key: string, options?: { signal?: AbortSignal | undefined }) => {
    if (key.includes('/chunk-')) {
      reached.open();
      const signal = options?.signal;
      if (signal !== undefined && !signal.aborted) {
        await Promise.race([
          released.opened,
          new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })),
        ]);
      }
    }
  };
  // biome-ignore lint/suspicious/noExplicitAny: wraps write(key, body, options) and read(key, options) alike.
  (backend as any)[method] = async (key: string, ...rest: any[]) => {
    await held(key, rest.at(-1));
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    return (original as any).call(backend, key, ...rest);
  };
  const unhold = () => {
    backend[method] = original as never;
  };
  return {
    reached: reached.opened,
    unhold,
    release: () => {
      unhold();
      released.open();
    },
  };
}
