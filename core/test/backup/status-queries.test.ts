/**
 * operationStatus on a node of a cluster: the operation this node runs answers live, with progress;
 * one another node runs answers as the shared store records it, finished or not; the provider's
 * descriptor answers only once neither knows it.
 */
import test from 'ava';
import type { OperationState } from '../../src/backup/operation-store.js';
import { operationStatus, type QueryContext } from '../../src/backup/status-queries.js';
import { type Cluster, idle, startCluster, until } from './cluster-nodes.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** node1's view of the cluster for queries, its coordinator `coordinator`. */
const queriesOn = (cluster: Cluster, coordinator = cluster.coordinator('node1')): QueryContext => ({
  ...cluster.context,
  coordinator,
  store: cluster.store.view('node1'),
  logger: silent,
});

test('operationStatus() of an operation another node runs answers what the store records, without progress', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 10 } });
  const plan = cluster.plan('far', ['Article']);
  const state: OperationState = {
    kind: 'backup',
    id: 'far',
    backend: plan.module.name,
    backendNames: [plan.module.name, ...plan.module.altNames],
    scope: {},
    home: plan.home,
    startedAt: '2026-01-02T03:04:05.000Z',
    classes: ['Article'],
    nodes: ['node2'],
    compression: 'DefaultCompression',
    status: 'TRANSFERRED',
    error: '',
    completedAt: '0001-01-01T00:00:00.000Z',
    preCompressionSizeBytes: 1024 ** 3 / 2,
    committed: true,
  };
  cluster.store.seed('node2', state);
  const context = queriesOn(cluster);
  for (const name of ['filesystem', 'backup-filesystem']) {
    t.deepEqual(await operationStatus(context, 'backup', name, 'far', {}), {
      id: 'far',
      backend: name,
      path: plan.home,
      status: 'TRANSFERRED',
      startedAt: state.startedAt,
      completedAt: state.completedAt,
      size: 0.5,
    });
  }
  // Not a restore of that id, and not at another path.
  await t.throwsAsync(operationStatus(context, 'restore', 'filesystem', 'far', {}), {
    code: 'STRATA_BACKUP_NOT_FOUND',
  } as never);
  await t.throwsAsync(operationStatus(context, 'backup', 'filesystem', 'far', { path: 'other' }), {
    code: 'STRATA_BACKUP_NOT_FOUND',
  } as never);
});

test('operationStatus() of the operation this node runs answers it live, with progress; once settled, the descriptor', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 100 } });
  const coordinator = cluster.coordinator('node1');
  const context = queriesOn(cluster, coordinator);
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  await coordinator.backup(cluster.plan('near', ['Article']), { node1: ['Article'] });
  await hold.reached;
  await until(() => cluster.journal.includes('put TRANSFERRING committed'));
  const live = await operationStatus(context, 'backup', 'filesystem', 'near', {});
  t.like(live, { id: 'near', status: 'TRANSFERRING' });
  t.true((live.progress?.totalBytes ?? 0) > 0, JSON.stringify(live.progress));
  hold.release();
  await idle(coordinator);
  const done = await operationStatus(context, 'backup', 'filesystem', 'near', {});
  t.like(done, { status: 'SUCCESS' });
  t.is(done.progress, undefined);
  t.is(cluster.store.entry({ kind: 'backup', id: 'near', backend: 'backup-filesystem', scope: {} }), undefined);
});
