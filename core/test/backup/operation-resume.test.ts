/**
 * Coordinator.resume: node2 adopts the operation of node1, a coordinator that died (its claim lapsed),
 * as the scheduler does with an orphan the store lists. A finished one is settled in the provider; one
 * never committed is failed and its participants' prepared jobs dropped; a committed one is followed
 * to its end, which a participant that lost the job (its node restarted) fails.
 */
import test from 'ava';
import type { ListedOperation, OperationState } from '../../src/backup/operation-store.js';
import type { Participant } from '../../src/backup/participant.js';
import {
  backupRef,
  type Cluster,
  gate,
  idle,
  outcomeOf,
  SpyParticipant,
  settled,
  startCluster,
  until,
} from './cluster-nodes.js';

const LAYOUT = { node1: { Article: 150 }, node2: { Book: 150 } };

/** node1's lease lapses; node2 adopts its one orphan and resumes it. */
async function adoptOnNode2(cluster: Cluster, setup: Parameters<Cluster['coordinator']>[1] = {}) {
  cluster.store.expire('node1');
  const [orphan] = cluster.store.orphans();
  if (orphan === undefined) throw new Error('node1 left no orphan');
  const successor = cluster.coordinator('node2', setup);
  const won = await successor.adopt(orphan, cluster.backend, () => cluster.store.view('node2').adopt(orphan));
  if (!won) throw new Error('node2 could not adopt it');
  return { successor, orphan };
}

/** The journal from node2's adoption on. */
const sinceAdoption = (cluster: Cluster) => cluster.journal.slice(cluster.journal.indexOf('adopted by node2'));

test('resume() of a FINISHED operation writes its descriptor and forgets it', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const first = cluster.coordinator('node1');
  cluster.refuseDescriptors((status) => status === 'SUCCESS');
  const plan = cluster.plan('settle-me', ['Article', 'Book']);
  await first.backup(plan, cluster.nodeClasses(plan.classes));
  await idle(first);
  t.is((await cluster.global('settle-me'))?.status, 'TRANSFERRED', 'the provider lacks the outcome');
  t.like(cluster.store.entry(backupRef(plan)), { state: { status: 'SUCCESS' } }, 'the store keeps it');

  cluster.refuseDescriptors(() => false);
  const { successor, orphan } = await adoptOnNode2(cluster);
  t.is(orphan.coordinator, 'node1');
  await idle(successor);
  t.deepEqual(sinceAdoption(cluster), [
    'adopted by node2',
    'put SUCCESS committed',
    'write backup_config.json SUCCESS',
    'remove',
  ]);
  const global = await cluster.global('settle-me');
  t.like(global, { status: 'SUCCESS', leader: 'node2', completedAt: orphan.state.completedAt });
  t.is(cluster.store.entry(orphan.state), undefined);
  t.true(cluster.logs.some((line) => line.msg === 'adopted backup settle-me from node node1'));
});

test('resume() of a FAILED backup deletes every node’s chunks again before writing its descriptor', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const plan = cluster.plan('failed-left', ['Article', 'Book']);
  const { Readable } = await import('node:stream');
  await cluster.backend.write('failed-left/node2/Book/chunk-1', Readable.from([Buffer.from('left')]));
  const state: OperationState = {
    kind: 'backup',
    id: plan.id,
    backend: plan.module.name,
    backendNames: [plan.module.name, ...plan.module.altNames],
    scope: {},
    home: plan.home,
    startedAt: new Date().toISOString(),
    classes: plan.classes,
    nodes: ['node1', 'node2'],
    nodeClasses: { node1: ['Article'], node2: ['Book'] },
    compression: 'DefaultCompression',
    status: 'FAILED',
    error: 'node2 failed: disk on fire',
    completedAt: new Date().toISOString(),
    preCompressionSizeBytes: 0,
    committed: true,
  };
  cluster.store.seed('node1', state);
  const { successor } = await adoptOnNode2(cluster);
  await idle(successor);
  t.deepEqual(await cluster.files('failed-left'), ['backup_config.json']);
  t.like(await cluster.global('failed-left'), { status: 'FAILED', error: 'node2 failed: disk on fire' });
});

/** node1's coordinator, whose prepare on node2 waits for `stall` (and opens `reached` when it does). */
function stalledOnNode2(cluster: Cluster) {
  const stall = gate();
  const reached = gate();
  const first = cluster.coordinator('node1', {
    participant: (name) =>
      name === 'node2'
        ? stalledPrepare(cluster.node('node2').participant, stall.opened, reached.open)
        : cluster.node(name).participant,
  });
  return { first, stall, reached };
}

/** A participant whose prepare waits for `gate` (a coordinator stalled while its participants prepare). */
function stalledPrepare(inner: Participant, opened: Promise<void>, reached: () => void): Participant {
  return {
    node: inner.node,
    prepare: async (request) => {
      reached();
      await opened;
      return inner.prepare(request);
    },
    commit: (operation) => inner.commit(operation),
    events: (operation) => inner.events(operation),
    status: (operation) => inner.status(operation),
    abort: (operation, reason) => inner.abort(operation, reason),
  };
}

test('resume() of an operation never committed ends it FAILED, its coordinator named, and drops its prepared jobs', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const { first, reached } = stalledOnNode2(cluster);
  const plan = cluster.plan('uncommitted', ['Article', 'Book']);
  const started = first.backup(plan, cluster.nodeClasses(plan.classes));
  started.catch(() => {});
  await reached.opened;
  const ref = backupRef(plan);
  t.like(await cluster.node('node1').participant.status(ref), { phase: 'STARTED' }, 'node1 prepared it');
  t.like(cluster.store.entry(ref), { state: { status: 'STARTED' } });
  t.not(cluster.store.entry(ref)?.state.committed, true);

  const spies = new Map(['node1', 'node2'].map((name) => [name, new SpyParticipant(cluster.node(name).participant)]));
  const { successor } = await adoptOnNode2(cluster, { participant: (name) => spies.get(name) as Participant });
  await idle(successor);
  const error = 'coordinator node1 stopped before the backup started';
  t.like(await cluster.global('uncommitted'), { status: 'FAILED', error });
  for (const spy of spies.values()) t.deepEqual(spy.calls, [`abort: ${error}`], spy.node);
  t.is(await cluster.node('node1').participant.status(ref), undefined, 'the prepared job is dropped');
  t.is(cluster.store.entry(ref), undefined);
  // The key is free on node1 again.
  await t.notThrowsAsync(
    cluster.node('node1').participant.prepare({
      ...ref,
      kind: 'backup',
      classes: ['Article'],
      compression: 'DefaultCompression',
      concurrency: 1,
      startedAt: new Date().toISOString(),
    }),
  );
  await cluster.node('node1').participant.abort(ref, 'test over');
});

test('resume() of a committed backup whose participants still run follows them to SUCCESS', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const first = cluster.coordinator('node1');
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  const plan = cluster.plan('followed', ['Article', 'Book']);
  await first.backup(plan, cluster.nodeClasses(plan.classes));
  await hold.reached;
  // node1 leaves the cluster: it hands the operation over rather than failing it.
  await first.close();
  t.false(first.busy);

  const spies = new Map(['node1', 'node2'].map((name) => [name, new SpyParticipant(cluster.node(name).participant)]));
  const { successor } = await adoptOnNode2(cluster, { participant: (name) => spies.get(name) as Participant });
  t.true(successor.busy);
  hold.release();
  await idle(successor);
  const global = await cluster.global('followed');
  t.like(global, { status: 'SUCCESS', leader: 'node2' });
  t.true(
    (global?.nodes.node1?.preCompressionSizeBytes ?? 0) > 0,
    'each node’s bytes, from its events read from the first',
  );
  for (const spy of spies.values()) {
    t.deepEqual(spy.calls, ['commit', 'events'], `${spy.node} committed again, never aborted`);
  }
  const written = sinceAdoption(cluster).filter((entry) => entry.startsWith('write '));
  t.is(written.at(-1), 'write backup_config.json SUCCESS');
  t.is(sinceAdoption(cluster).at(-1), 'remove');
  t.is(cluster.store.entry(backupRef(plan)), undefined);
});

test('resume() of a committed backup with a recorded cancel aborts its participants and ends CANCELED', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const first = cluster.coordinator('node1');
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  const plan = cluster.plan('cancel-adopted', ['Article', 'Book']);
  await first.backup(plan, cluster.nodeClasses(plan.classes));
  await hold.reached;
  await first.close();
  // node1 recorded the cancel, then died before it told its participants.
  const recorded = cluster.store.entry(backupRef(plan))?.state as OperationState;
  cluster.store.seed('node1', { ...recorded, status: 'CANCELLING', cancelRequested: true });

  const { successor } = await adoptOnNode2(cluster);
  await idle(successor);
  t.like(await cluster.global('cancel-adopted'), { status: 'CANCELED', error: 'backup canceled by user' });
  for (const name of ['node1', 'node2']) {
    t.like(await outcomeOf(cluster.node(name).participant, backupRef(plan)), { outcome: 'ABORTED' }, name);
  }
  t.deepEqual(await cluster.files('cancel-adopted'), ['backup_config.json']);
});

test('resume() of a committed backup whose participants lost it (their nodes restarted) ends FAILED with no chunk left', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const first = cluster.coordinator('node1');
  const hold = cluster.holdChunks();
  const plan = cluster.plan('lost', ['Article', 'Book']);
  await first.backup(plan, cluster.nodeClasses(plan.classes));
  await hold.reached;
  await first.close();
  // Both nodes restart: what ran there is gone, and their new participants hold nothing.
  const ref = backupRef(plan);
  for (const name of ['node1', 'node2']) await cluster.node(name).participant.abort(ref, 'node restarted');
  hold.release();
  for (const name of ['node1', 'node2']) await settled(cluster.node(name).participant, ref);
  cluster.restart('node1');
  cluster.restart('node2');

  const { successor } = await adoptOnNode2(cluster);
  await idle(successor);
  t.like(await cluster.global('lost'), { status: 'FAILED', error: 'commit: backup lost is not prepared' });
  t.deepEqual(await cluster.files('lost'), ['backup_config.json']);
  t.is(cluster.store.entry(ref), undefined);
});

test('resume() throws BackupInProgressError while the coordinator runs another operation', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 50 } });
  const coordinator = cluster.coordinator('node1');
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  const plan = cluster.plan('busy', ['Article']);
  await coordinator.backup(plan, { node1: ['Article'] });
  const other: ListedOperation = {
    state: { ...(cluster.store.entry(backupRef(plan))?.state as OperationState), id: 'other' },
    coordinator: 'node9',
    claimed: false,
    revision: '1',
  };
  let claimed = false;
  const claim = async () => {
    claimed = true;
    return true;
  };
  await t.throwsAsync(coordinator.adopt(other, cluster.backend, claim), {
    code: 'STRATA_BACKUP_IN_PROGRESS',
  } as never);
  t.false(claimed, 'the slot is checked before the claim is taken');
  hold.release();
  await idle(coordinator);
});

test('resume() of a FINISHED backup records each node’s bytes in backup_config.json, as its first coordinator would have', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const first = cluster.coordinator('node1');
  cluster.refuseDescriptors((status) => status === 'SUCCESS');
  const plan = cluster.plan('sizes', ['Article', 'Book']);
  await first.backup(plan, cluster.nodeClasses(plan.classes));
  await idle(first);
  cluster.refuseDescriptors(() => false);
  const { successor } = await adoptOnNode2(cluster);
  await idle(successor);
  const global = await cluster.global('sizes');
  t.is(global?.status, 'SUCCESS');
  for (const name of ['node1', 'node2']) {
    t.true((global?.nodes[name]?.preCompressionSizeBytes ?? 0) > 0, `${name}: ${JSON.stringify(global?.nodes[name])}`);
  }
});

test('a coordinator that stalls before its commit writes no STARTED descriptor over the FAILED its successor wrote', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const { first, stall, reached } = stalledOnNode2(cluster);
  const plan = cluster.plan('stale-commit', ['Article', 'Book']);
  const started = first.backup(plan, cluster.nodeClasses(plan.classes));
  await reached.opened;
  const { successor } = await adoptOnNode2(cluster);
  await idle(successor);
  t.like(await cluster.global('stale-commit'), { status: 'FAILED' });

  // node1 wakes up: its prepare answers, and it goes on to commit.
  stall.open();
  const refused = await t.throwsAsync(started);
  t.is((refused as { code?: string } | undefined)?.code, 'STRATA_CLUSTER_OPERATION_FENCED');
  t.like(await cluster.global('stale-commit'), { status: 'FAILED' }, 'the successor’s outcome stands in the provider');
});

test('resume() of an operation canceled before its commit ends it CANCELED, as a recorded cancel does everywhere else', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const { first, reached } = stalledOnNode2(cluster);
  const plan = cluster.plan('cancel-early', ['Article', 'Book']);
  first.backup(plan, cluster.nodeClasses(plan.classes)).catch(() => {});
  await reached.opened;
  first.cancel('backup', plan).catch(() => {});
  await until(() => cluster.store.entry(backupRef(plan))?.state.cancelRequested === true);
  // node1 dies with the cancel recorded.
  const { successor } = await adoptOnNode2(cluster);
  await idle(successor);
  t.like(await cluster.global('cancel-early'), { status: 'CANCELED', error: 'backup canceled by user' });
});

/** What node1 left recorded of backup `plan`, run at `startedAt`: the phase the provider has, and `extra`. */
function leftBy(plan: ReturnType<Cluster['plan']>, startedAt: string, extra: Partial<OperationState>): OperationState {
  return {
    kind: 'backup',
    id: plan.id,
    backend: plan.module.name,
    backendNames: [plan.module.name, ...plan.module.altNames],
    scope: {},
    home: plan.home,
    startedAt,
    classes: ['Article', 'Book'],
    nodes: ['node1', 'node2'],
    nodeClasses: { node1: ['Article'], node2: ['Book'] },
    compression: 'DefaultCompression',
    status: 'TRANSFERRED',
    error: '',
    completedAt: '0001-01-01T00:00:00.000Z',
    preCompressionSizeBytes: 0,
    committed: true,
    ...extra,
  };
}

test('resume() of an outcome decided but not yet written settles with it, following no participant', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const first = cluster.coordinator('node1');
  cluster.refuseDescriptors((status) => status === 'SUCCESS');
  const plan = cluster.plan('decided', ['Article', 'Book']);
  await first.backup(plan, cluster.nodeClasses(plan.classes));
  await idle(first);
  const { startedAt } = (await cluster.global('decided')) as { startedAt: string };
  // node1 decided SUCCESS and died writing it.
  const outcome = { status: 'SUCCESS' as const, error: '', completedAt: '2026-12-02T00:00:00.000Z' };
  cluster.store.takeOver(leftBy(plan, startedAt, {}), 'node1', leftBy(plan, startedAt, { outcome }));
  cluster.refuseDescriptors(() => false);
  const spies = new Map<string, SpyParticipant>();
  const { successor } = await adoptOnNode2(cluster, {
    participant: (name) => {
      const spy = new SpyParticipant(cluster.node(name).participant);
      spies.set(name, spy);
      return spy;
    },
  });
  await idle(successor);
  t.deepEqual(
    [...spies.values()].flatMap((spy) => spy.calls),
    [],
    'no participant followed',
  );
  t.like(await cluster.global('decided'), { status: 'SUCCESS', completedAt: outcome.completedAt, leader: 'node2' });
  t.is(cluster.store.entry(backupRef(plan)), undefined);
});

test('resume() of an operation whose outcome the provider holds already only forgets it', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const first = cluster.coordinator('node1');
  const plan = cluster.plan('written', ['Article', 'Book']);
  await first.backup(plan, cluster.nodeClasses(plan.classes));
  await idle(first);
  const global = await cluster.global('written');
  t.is(global?.status, 'SUCCESS');
  // node1 wrote SUCCESS and died before the store forgot the run: the record says the phase before.
  cluster.store.seed('node1', leftBy(plan, global?.startedAt as string, {}));
  const { successor } = await adoptOnNode2(cluster);
  await idle(successor);
  t.like(await cluster.global('written'), { status: 'SUCCESS', leader: 'node1' }, 'the provider’s outcome, untouched');
  t.is(cluster.store.entry(backupRef(plan)), undefined, 'forgotten');
});
