/** What the cluster tests share: polling with a deadline, objects to import, reading them back. */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterNode, Reply } from '@strata/testing';

/** Polls `check` every 20 ms until it returns a value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** The class most tests use. */
export const ARTICLE = {
  class: 'Article',
  properties: [
    { name: 'title', dataType: ['text'] },
    { name: 'n', dataType: ['int'] },
  ],
};

/** An article object, as a batch sends it. */
export interface Article {
  readonly class: 'Article';
  readonly id: string;
  readonly properties: { readonly title: string; readonly n: number };
}

/** `count` articles with random ids. */
export function articles(count: number): Article[] {
  return Array.from({ length: count }, (_, n) => ({
    class: 'Article',
    id: randomUUID(),
    properties: { title: `article ${n}`, n },
  }));
}

/** Imports `objects` through `node` in batches of `size`; returns the per-object statuses. */
export async function importBatches(node: ClusterNode, objects: readonly unknown[], size = 1000): Promise<string[]> {
  const statuses: string[] = [];
  for (let i = 0; i < objects.length; i += size) {
    const reply = await node.request('POST', '/v1/batch/objects', { objects: objects.slice(i, i + size) });
    if (reply.status !== 200) throw new Error(`batch: ${reply.status} ${JSON.stringify(reply.body)}`);
    statuses.push(...reply.body.map((result: { result: { status: string } }) => result.result.status));
  }
  return statuses;
}

/** Runs `task` on every item, `width` at a time. */
export async function eachLimited<T, R>(
  items: readonly T[],
  width: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i] as T);
      }
    }),
  );
  return results;
}

/** Every object of `className` through `node`, page by page with the `after` cursor. */
export async function pageAll(node: ClusterNode, className: string, limit: number): Promise<Reply['body'][]> {
  const objects: Reply['body'][] = [];
  let after: string | undefined;
  for (;;) {
    const query = `class=${className}&limit=${limit}${after === undefined ? '' : `&after=${after}`}`;
    const reply = await node.request('GET', `/v1/objects?${query}`);
    if (reply.status !== 200) throw new Error(`page: ${reply.status} ${JSON.stringify(reply.body)}`);
    if (reply.body.objects.length === 0) return objects;
    objects.push(...reply.body.objects);
    after = reply.body.objects.at(-1).id;
  }
}
