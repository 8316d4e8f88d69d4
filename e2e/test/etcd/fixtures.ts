/**
 * What the etcd tests share: a fresh etcd per test (stopped in teardown), clients connected to it
 * (closed in teardown), members that leave in teardown, and a wait that measures how long a
 * condition took, so every bound a test states is checked and logged.
 */

import { connectEtcd, type JoinOptions, type MemberInfo, Membership } from '@strata/core/cluster';
import { type Etcd, startEtcd } from '@strata/testing';
import type { ExecutionContext } from 'ava';
import type { Etcd3 } from 'etcd3';

/** The lease TTL the tests use: short, so expiry fits in a test. */
export const TTL_SECONDS = 2;

/** A fresh etcd for this test, stopped when it ends. */
export async function freshEtcd(t: ExecutionContext): Promise<Etcd> {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  return etcd;
}

/** A client of `etcd`, as a node makes it, closed when the test ends. */
export async function clientOf(t: ExecutionContext, etcd: Etcd): Promise<Etcd3> {
  const client = await connectEtcd([etcd.endpoint]);
  t.teardown(() => client.close());
  return client;
}

/** What node `name` tells the cluster. */
export function info(name: string, port = 7000): MemberInfo {
  return {
    name,
    internalUrl: `http://127.0.0.1:${port}`,
    version: '0.0.0-test',
  };
}

/** Every error a membership or schema store reported. */
export class Reported {
  readonly errors: unknown[] = [];
  readonly onError = (error: unknown): void => {
    this.errors.push(error);
  };
  /** The codes of the reported errors (`-` for an error without one). */
  codes(): string[] {
    return this.errors.map((error) => (error as { code?: string }).code ?? '-');
  }
}

/** Joins as `self`, leaving when the test ends (leave is safe to call twice). */
export async function joined(
  t: ExecutionContext,
  client: Etcd3,
  self: MemberInfo,
  options: Partial<JoinOptions> & Pick<JoinOptions, 'dataPathId'>,
): Promise<Membership> {
  const membership = await Membership.join(client, self, { ttlSeconds: TTL_SECONDS, ...options });
  t.teardown(() => membership.leave());
  return membership;
}

/**
 * Resolves with how many milliseconds passed until `condition` held (checked every 20 ms); fails
 * the test with `what` when it did not within `timeoutMs`.
 */
export async function waitFor(
  t: ExecutionContext,
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) {
      t.fail(`${what}: not within ${timeoutMs} ms`);
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
