/**
 * What the operation store tests share: operation states, a node (its client, membership and
 * operation store, left and closed in teardown), a coordinator in a process of its own, and a revoke
 * of a lease from outside, as an operator's `etcdctl lease revoke` would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OperationState } from '@strata/core/backup';
import { EtcdOperationStore, type Membership } from '@strata/core/cluster';
import { type Etcd, waitForLine } from '@strata/testing';
import type { ExecutionContext } from 'ava';
import type { Etcd3 } from 'etcd3';
import { clientOf, info, joined, Reported, TTL_SECONDS } from './fixtures.js';

/** A backup's state as a coordinator records it when it starts, with `changes` applied. */
export function operation(id: string, changes: Partial<OperationState> = {}): OperationState {
  return {
    kind: 'backup',
    id,
    backend: 'backup-filesystem',
    backendNames: ['backup-filesystem', 'filesystem'],
    scope: {},
    home: `/backups/${id}`,
    startedAt: '2025-01-02T03:04:05.678Z',
    classes: ['Article'],
    nodes: ['node-a', 'node-b'],
    compression: 'DefaultCompression',
    status: 'STARTED',
    error: '',
    completedAt: '0001-01-01T00:00:00.000Z',
    preCompressionSizeBytes: 0,
    ...changes,
  };
}

/** A node of the tests: its own client, its membership and its operation store. */
export interface TestNode {
  readonly name: string;
  readonly client: Etcd3;
  readonly membership: Membership;
  readonly store: EtcdOperationStore;
  readonly reported: Reported;
}

/** Node `name` joined to `etcd` with the tests' TTL, with an operation store on its lease. */
export async function node(t: ExecutionContext, etcd: Etcd, name: string): Promise<TestNode> {
  const client = await clientOf(t, etcd);
  const reported = new Reported();
  const membership = await joined(t, client, info(name), { dataPathId: `dp-${name}`, onError: () => {} });
  const store = new EtcdOperationStore(client, {
    node: name,
    leaseId: () => membership.leaseId,
    onError: reported.onError,
    relistMs: 500,
  });
  return { name, client, membership, store, reported };
}

/** Revokes lease `id` through etcd's JSON gateway, as `etcdctl lease revoke` would. */
export async function revokeLease(etcd: Etcd, id: string | undefined): Promise<void> {
  const response = await fetch(`${etcd.endpoint}/v3/lease/revoke`, {
    method: 'POST',
    body: JSON.stringify({ ID: id }),
  });
  if (response.status !== 200) throw new Error(`revoking lease ${id}: ${response.status} ${await response.text()}`);
}

/** A coordinator process (operation-coordinator.ts) that joined as `name` and put `state`; killed in teardown. */
export async function coordinatorProcess(
  t: ExecutionContext,
  etcd: Etcd,
  name: string,
  state: OperationState,
): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('operation-coordinator.js', import.meta.url));
  const args = [script, etcd.endpoint, name, String(TTL_SECONDS), JSON.stringify(state)];
  const child = spawn(process.execPath, args, { stdio: 'pipe' });
  t.teardown(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  await waitForLine(child, /claimed/);
  return child;
}

/** What the coordinator process answers to `put <state>`: `ok`, or `failed <code>: <message>`. */
export async function putIn(child: ChildProcess, state: OperationState): Promise<string> {
  const answer = waitForLine(child, /put (.*)\n/);
  child.stdin?.write(`put ${JSON.stringify(state)}\n`);
  return (await answer)[1] ?? '';
}
