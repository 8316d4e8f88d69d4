/**
 * A cluster's restore ends by `finalize` (the coordinator creates the restored classes in the
 * cluster's schema), over participants that hold what they restored rather than attach it: finalize
 * runs once every participant succeeded, with the recorded state; one that throws fails the restore
 * with its message and has every participant release what it holds; a participant's failure skips it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { OperationState } from '../../src/backup/operation-store.js';
import type { Participant, ParticipantEvent } from '../../src/backup/participant.js';
import { restoredRecords } from '../../src/backup/restored-classes.js';
import type { Cluster } from './cluster-nodes.js';
import { gate, idle, SpyParticipant, settled, startCluster } from './cluster-nodes.js';

/** Two nodes holding their restores, one class each, backed up and then deleted everywhere. */
async function backedUp(t: ExecutionContext) {
  const cluster = await startCluster(t, { node1: { Article: 60 }, node2: { Book: 40 } }, { holdRestores: true });
  const coordinator = cluster.coordinator('node1');
  const plan = cluster.plan('held', ['Article', 'Book']);
  await coordinator.backup(plan, cluster.nodeClasses(plan.classes));
  await idle(coordinator);
  t.is((await cluster.global('held'))?.status, 'SUCCESS');
  await cluster.node('node1').db.deleteClass('Article');
  await cluster.node('node2').db.deleteClass('Book');
  return cluster;
}

/** What the cluster's finalize does (scheduler.ts): the restored records, created on every node. */
function creating(cluster: Cluster, calls: OperationState[]) {
  return async (state: OperationState) => {
    calls.push(state);
    const records = await restoredRecords(cluster.backend, state, cluster.node('node1').db);
    for (const { db } of cluster.nodes.values()) for (const record of records) await db.applyClass(record);
  };
}

/** restore_config.json of `id`'s latest restore. */
async function restoreDescriptor(cluster: Cluster, id: string) {
  const { readFile } = await import('node:fs/promises');
  return JSON.parse(await readFile(join(cluster.backups, id, 'restore_config.json'), 'utf8'));
}

const count = async (cluster: Cluster, node: string, className: string) =>
  (await cluster.node(node).db.listObjects({ className, limit: 1000 })).length;

test('finalize is called once, with the recorded state, when every participant succeeded; the restore is SUCCESS', async (t) => {
  const cluster = await backedUp(t);
  const calls: OperationState[] = [];
  const coordinator = cluster.coordinator('node1', {
    cluster: { finalize: creating(cluster, calls), retryStoreMs: 5 },
  });
  t.deepEqual(await coordinator.restore(cluster.restorePlan('held')), ['Article', 'Book']);
  await idle(coordinator);

  t.is(calls.length, 1);
  const [state] = calls;
  t.like(state, { kind: 'restore', id: 'held', nodes: ['node1', 'node2'], committed: true });
  t.deepEqual(
    state?.attaches?.map(({ class: name, node }) => [name, node]),
    [
      ['Article', 'node1'],
      ['Book', 'node2'],
    ],
  );
  t.like(await restoreDescriptor(cluster, 'held'), { status: 'SUCCESS', error: '' });
  t.is(await count(cluster, 'node1', 'Article'), 60);
  t.is(await count(cluster, 'node2', 'Book'), 40);
  const puts = cluster.journal.filter((entry) => entry.startsWith('put'));
  t.is(puts.at(-1), 'put FINALIZING committed -> SUCCESS', 'the outcome decided, beside the phase the provider has');
  t.is(cluster.journal.at(-2), 'write restore_config.json SUCCESS');
});

test('restore() with node_mapping swapping two nodes has each restore the other’s shards, placed on it', async (t) => {
  const cluster = await backedUp(t);
  const calls: OperationState[] = [];
  const coordinator = cluster.coordinator('node1', {
    cluster: { finalize: creating(cluster, calls), retryStoreMs: 5 },
  });
  await coordinator.restore(cluster.restorePlan('held', { node_mapping: { node1: 'node2', node2: 'node1' } }));
  await idle(coordinator);
  t.like(await restoreDescriptor(cluster, 'held'), { status: 'SUCCESS' });
  t.deepEqual(
    cluster
      .node('node1')
      .db.placement('Article')
      .map((shard) => shard.node),
    ['node2'],
  );
  t.is(await count(cluster, 'node2', 'Article'), 60);
  t.is(await count(cluster, 'node1', 'Book'), 40);
});

test('a finalize that throws fails the restore with its message and every participant releases what it holds', async (t) => {
  const cluster = await backedUp(t);
  const calls: OperationState[] = [];
  const coordinator = cluster.coordinator('node1', {
    cluster: {
      finalize: async (state) => {
        calls.push(state);
        // Held in place, not yet classes: what a failed finalize must release.
        t.true(existsSync(join(cluster.node('node1').dataPath, 'article')));
        t.true(existsSync(join(cluster.node('node2').dataPath, 'book')));
        throw new Error('etcd refused the classes (test)');
      },
      retryStoreMs: 5,
    },
  });
  await coordinator.restore(cluster.restorePlan('held'));
  await idle(coordinator);
  t.is(calls.length, 1);
  t.like(await restoreDescriptor(cluster, 'held'), { status: 'FAILED', error: 'etcd refused the classes (test)' });
  t.false(existsSync(join(cluster.node('node1').dataPath, 'article')), 'node1 released Article');
  t.false(existsSync(join(cluster.node('node2').dataPath, 'book')), 'node2 released Book');
  t.is(cluster.node('node1').db.getClass('Article'), undefined);

  // Nothing is left held: the same restore goes through now.
  const next = cluster.coordinator('node1', { cluster: { finalize: creating(cluster, []), retryStoreMs: 5 } });
  await next.restore(cluster.restorePlan('held'));
  await idle(next);
  t.like(await restoreDescriptor(cluster, 'held'), { status: 'SUCCESS' });
  t.is(await count(cluster, 'node1', 'Article'), 60);
});

/** Node `inner`'s participant, whose events end FAILED once `fail` opens. */
function failingEvents(inner: Participant, opened: Promise<void>): Participant {
  return {
    node: inner.node,
    prepare: (request) => inner.prepare(request),
    commit: async () => {},
    async *events(): AsyncIterable<ParticipantEvent> {
      await opened;
      yield { type: 'done', outcome: 'FAILED', error: 'disk on fire (test)', bytes: 0 };
    },
    status: async () => undefined,
    abort: (operation, reason) => inner.abort(operation, reason),
  };
}

test('a participant that fails skips finalize; the one that succeeded releases what it holds', async (t) => {
  const cluster = await backedUp(t);
  const calls: OperationState[] = [];
  const fail = gate();
  const spy = new SpyParticipant(cluster.node('node1').participant);
  const coordinator = cluster.coordinator('node1', {
    cluster: { finalize: creating(cluster, calls), retryStoreMs: 5 },
    participant: (name) => (name === 'node1' ? spy : failingEvents(cluster.node('node2').participant, fail.opened)),
  });
  await coordinator.restore(cluster.restorePlan('held'));
  const ref = { kind: 'restore' as const, id: 'held', backend: 'backup-filesystem', scope: {} };
  await settled(cluster.node('node1').participant, ref);
  t.true(existsSync(join(cluster.node('node1').dataPath, 'article')), 'held once restored');
  fail.open();
  await idle(coordinator);

  t.deepEqual(calls, []);
  t.like(await restoreDescriptor(cluster, 'held'), { status: 'FAILED', error: 'disk on fire (test)' });
  t.deepEqual(spy.aborts, ['abort: node2 failed: disk on fire (test)']);
  t.false(existsSync(join(cluster.node('node1').dataPath, 'article')), 'node1 released Article');
  t.is(cluster.node('node1').db.getClass('Article'), undefined);
});

/** node2's participant as after a restart: every call passes, but it holds nothing once its part is done. */
class RestartedWhenDone extends SpyParticipant {
  override async status(operation: Parameters<Participant['status']>[0]) {
    const status = await super.status(operation);
    return status?.phase === 'DONE' ? undefined : status;
  }
}

test('a participant that lost its part after it finished (its node restarted) fails the restore before any class is created', async (t) => {
  const cluster = await backedUp(t);
  const calls: OperationState[] = [];
  const restarted = new RestartedWhenDone(cluster.node('node2').participant);
  const coordinator = cluster.coordinator('node1', {
    participant: (name) => (name === 'node2' ? restarted : cluster.node(name).participant),
    cluster: { finalize: creating(cluster, calls), retryStoreMs: 5 },
  });
  await coordinator.restore(cluster.restorePlan('held'));
  await idle(coordinator);
  t.is(calls.length, 0, 'no class created');
  t.like(await restoreDescriptor(cluster, 'held'), {
    status: 'FAILED',
    error:
      'node "node2" holds no restore "held": it was not prepared there, was aborted, finished long ago, or the node restarted since; start the operation again',
  });
  t.is(cluster.node('node1').db.getClass('Article'), undefined);
  t.false(existsSync(join(cluster.node('node1').dataPath, 'article')), "node1's held shards released");
});
