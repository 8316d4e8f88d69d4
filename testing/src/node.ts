import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, StrataNode } from '@strata/core/node';

/** A reply of the node's REST API: status and parsed JSON body (or text). */
export interface Reply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies field by field.
  readonly body: any;
}

/**
 * Sends `body` (JSON, or a string as given) to `url` + `path` and reads the reply: parsed JSON, the
 * text when it is not JSON, undefined when empty.
 */
export async function jsonRequest(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

/** A node started in this process on a fresh data path and a free port, with its log lines captured. */
export interface TestNode {
  readonly node: StrataNode;
  readonly url: string;
  readonly dataPath: string;
  /** Every log line written so far, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  /** Sends a JSON request to the node's API. */
  request(method: string, path: string, body?: unknown): Promise<Reply>;
}

/** Options of {@link startTestNode}. */
export interface TestNodeOptions {
  /** The level the node logs at (default `info`). */
  readonly logLevel?: string;
  /** Headers sent with every request, e.g. an `authorization` with an API key. */
  readonly headers?: Record<string, string>;
}

/** Starts a node with `env`; stopped and its data removed in `t.teardown`. */
export async function startTestNode(
  t: { teardown(fn: () => Promise<void>): void },
  env: Record<string, string>,
  options: TestNodeOptions = {},
): Promise<TestNode> {
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-node-'));
  t.teardown(() => rm(dataPath, { recursive: true, force: true }));
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const node = await StrataNode.start({
    env: { PERSISTENCE_DATA_PATH: dataPath, ...env },
    port: 0,
    logger: createLogger(options.logLevel ?? 'info', sink),
  });
  t.teardown(() => node.stop());
  const request = (method: string, path: string, body?: unknown) =>
    jsonRequest(node.url, method, path, body, options.headers);
  return { node, url: node.url, dataPath, logs, request };
}

const FINISHED = new Set(['SUCCESS', 'FAILED', 'CANCELED']);

/** Polls a backup or restore status until it is finished; returns the last reply. */
export async function waitForStatus(node: TestNode, path: string, timeoutMs = 120_000): Promise<Reply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await node.request('GET', path);
    if (reply.status !== 200 || FINISHED.has(reply.body.status)) return reply;
    if (Date.now() > deadline) throw new Error(`${path} still ${reply.body.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Backs class `name` up to `backend` as `id`, and if that succeeds drops the class and restores it;
 * returns the final status bodies (no `restore` when the backup did not succeed).
 */
export async function backupDropRestore(
  node: TestNode,
  backend: string,
  id: string,
  name: string,
  config: Record<string, unknown> = {},
): Promise<{ backup: Reply['body']; restore?: Reply['body'] }> {
  await node.request('POST', `/v1/backups/${backend}`, { id, config });
  const backup = await waitForStatus(node, `/v1/backups/${backend}/${id}`);
  if (backup.body.status !== 'SUCCESS') return { backup: backup.body };
  await node.request('DELETE', `/v1/schema/${name}`);
  await node.request('POST', `/v1/backups/${backend}/${id}/restore`, {});
  const restore = await waitForStatus(node, `/v1/backups/${backend}/${id}/restore`);
  return { backup: backup.body, restore: restore.body };
}

/** Options of {@link seedClass}. */
export interface SeedOptions {
  /** Shards of the class (default 1). */
  readonly shards?: number;
  /** Extra bytes of text per object (default 0), to make a store of a given size. */
  readonly padding?: number;
}

/** Creates class `name` with `count` objects in batches; returns them by id, as `readAll` does. */
export async function seedClass(
  node: TestNode,
  name: string,
  count: number,
  options: SeedOptions = {},
): Promise<Map<string, unknown>> {
  const { shards = 1, padding = 0 } = options;
  const pad = 'x'.repeat(padding);
  const created = await node.request('POST', '/v1/schema', {
    class: name,
    properties: [
      { name: 'title', dataType: ['text'] },
      { name: 'rank', dataType: ['int'] },
    ],
    shardingConfig: { desiredCount: shards },
  });
  if (created.status !== 200) throw new Error(`creating ${name}: ${JSON.stringify(created.body)}`);
  for (let i = 0; i < count; i += 500) {
    const objects = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
      class: name,
      properties: { title: `${name} ${i + j} ${'lorem ipsum '.repeat((i + j) % 9)}${pad}`, rank: i + j },
      vector: [(i + j) / count, 0.25],
    }));
    const reply = await node.request('POST', '/v1/batch/objects', { objects });
    if (reply.status !== 200) throw new Error(`seeding ${name}: ${JSON.stringify(reply.body)}`);
  }
  return readAll(node, name);
}

/** Every object of a class by id, with its vector, read page by page. */
export async function readAll(node: TestNode, name: string): Promise<Map<string, unknown>> {
  const objects = new Map<string, unknown>();
  for (let after: string | undefined; ; ) {
    const query = `class=${name}&limit=1000&include=vector${after === undefined ? '' : `&after=${after}`}`;
    const page = await node.request('GET', `/v1/objects?${query}`);
    if (page.status !== 200) throw new Error(`listing ${name}: ${JSON.stringify(page.body)}`);
    if (page.body.objects.length === 0) return objects;
    for (const object of page.body.objects) objects.set(object.id, object);
    after = page.body.objects[page.body.objects.length - 1].id;
  }
}
