/**
 * BackupScheduler on a node of a cluster (a BackupCluster over the in-process nodes): each node's
 * classes from the placement, one operation at a time in the whole cluster, status answered from the
 * store for an operation another node runs, a cancel forwarded to the operation's coordinator, a
 * restore's classes created through the cluster, orphans adopted once recovery watches for them.
 */
import test, { type ExecutionContext } from 'ava';
import type { BackupCluster } from '../../src/backup/backup-cluster.js';
import { writeDescriptor } from '../../src/backup/operation-descriptors.js';
import type { OperationState } from '../../src/backup/operation-store.js';
import type { OperationRef } from '../../src/backup/participant.js';
import { BackupScheduler } from '../../src/backup/scheduler.js';
import { validateClassRecord } from '../../src/db/class-record.js';
import type { ClassRecord } from '../../src/db/index.js';
import { NodeUnavailableError } from '../../src/errors.js';
import { type Cluster, gate, startCluster, until } from './cluster-nodes.js';

interface Node1 {
  readonly scheduler: BackupScheduler;
  /** The cancels forwarded to other nodes, as `node: id`. */
  readonly forwarded: string[];
  readonly created: Array<readonly ClassRecord[]>;
}

/**
 * node1's scheduler over `cluster`, with `live` members; a forwarded cancel is answered by `answer`,
 * restored classes are created on every node.
 */
function schedulerOn(
  t: ExecutionContext,
  cluster: Cluster,
  options: {
    live?: readonly string[];
    answer?: (node: string, operation: OperationRef) => Promise<OperationState | undefined>;
    cancelWaitMs?: number;
  } = {},
): Node1 {
  const forwarded: string[] = [];
  const created: Array<readonly ClassRecord[]> = [];
  const node1 = cluster.node('node1');
  const backups: BackupCluster = {
    store: cluster.store.view('node1'),
    liveNodes: () => options.live ?? [...cluster.nodes.keys()],
    participant: (name) => cluster.node(name).participant,
    cancelOn: async (node, operation) => {
      forwarded.push(`${node}: ${operation.id}`);
      return options.answer?.(node, operation);
    },
    createClasses: async (records) => {
      created.push(records);
      for (const { db } of cluster.nodes.values()) for (const record of records) await db.applyClass(record);
    },
  };
  const scheduler = new BackupScheduler({
    db: node1.db,
    modules: cluster.modules,
    nodeName: 'node1',
    dataPath: node1.dataPath,
    serverVersion: 'test',
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    participant: node1.participant,
    cluster: backups,
    ...(options.cancelWaitMs === undefined ? {} : { cancelWaitMs: options.cancelWaitMs }),
  });
  t.teardown(() => scheduler.close());
  return { scheduler, forwarded, created };
}

/** Resolves with the status of `kind` `id` once it is finished. */
async function finished(scheduler: BackupScheduler, kind: 'backup' | 'restore', id: string) {
  for (;;) {
    const status = await (kind === 'backup'
      ? scheduler.backupStatus('filesystem', id, {})
      : scheduler.restoreStatus('filesystem', id, {}));
    if (['SUCCESS', 'FAILED', 'CANCELED'].includes(status.status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A state of `kind` `id` as node2 would have recorded it, at `status`. */
function recordedBy(cluster: Cluster, kind: 'backup' | 'restore', id: string, status: OperationState['status']) {
  const plan = cluster.plan(id, ['Article']);
  const state: OperationState = {
    kind,
    id,
    backend: plan.module.name,
    backendNames: [plan.module.name, ...plan.module.altNames],
    scope: {},
    home: plan.home,
    startedAt: '2026-01-02T03:04:05.000Z',
    classes: ['Article'],
    nodes: ['node2'],
    compression: 'DefaultCompression',
    status,
    error: '',
    completedAt: '0001-01-01T00:00:00.000Z',
    preCompressionSizeBytes: 3 * 1024 ** 3,
    committed: true,
  };
  return state;
}

test('createBackup() on a cluster backs up each class on every node its placement names', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 30 }, node2: { Book: 30 } }, { external: true });
  // Shared has a shard on each node.
  const shared = validateClassRecord({
    definition: {
      class: 'Shared',
      properties: [{ name: 'title', dataType: ['text'] }],
      shardingConfig: { desiredCount: 2 },
    },
    shards: [
      { name: 'shard0', node: 'node1' },
      { name: 'shard1', node: 'node2' },
    ],
  });
  for (const { db } of cluster.nodes.values()) await db.applyClass(shared);
  const { scheduler } = schedulerOn(t, cluster);
  const reply = await scheduler.createBackup('filesystem', { id: 'placed', include: ['Article', 'Shared'] });
  t.like(reply, { id: 'placed', status: 'STARTED', classes: ['Article', 'Shared'] });
  t.like(await finished(scheduler, 'backup', 'placed'), { status: 'SUCCESS' });
  const global = await cluster.global('placed');
  t.deepEqual(global?.nodes.node1?.classes, ['Article', 'Shared']);
  t.deepEqual(global?.nodes.node2?.classes, ['Shared']);
  t.true((await cluster.files('placed')).includes('node2/backup.json'));
});

test('createBackup() with a filesystem backend and two live nodes is refused (LocalBackendOnClusterError)', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 10 }, node2: {} });
  const { scheduler } = schedulerOn(t, cluster);
  await t.throwsAsync(scheduler.createBackup('filesystem', { id: 'local' }), {
    message: 'local filesystem backend is not viable for backing up a node cluster, try s3 or gcs',
  });
  t.deepEqual(cluster.journal, []);
});

test('createBackup() is refused while the store holds another node’s running operation; a finished one does not block', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 10 } });
  const { scheduler } = schedulerOn(t, cluster, { live: ['node1'] });
  cluster.store.seed('node2', recordedBy(cluster, 'restore', 'elsewhere', 'TRANSFERRING'));
  await t.throwsAsync(scheduler.createBackup('filesystem', { id: 'mine' }), {
    message: 'restoration elsewhere already in progress',
  });
  t.false(cluster.journal.some((entry) => entry.startsWith('put')));

  cluster.store.seed('node2', recordedBy(cluster, 'restore', 'elsewhere', 'FAILED'));
  await scheduler.createBackup('filesystem', { id: 'mine' });
  t.like(await finished(scheduler, 'backup', 'mine'), { status: 'SUCCESS' });
});

test('backupStatus() and restoreStatus() answer from the store for an operation another node runs', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 10 } });
  const { scheduler } = schedulerOn(t, cluster, { live: ['node1'] });
  for (const kind of ['backup', 'restore'] as const) {
    const state = recordedBy(cluster, kind, `far-${kind}`, 'TRANSFERRING');
    cluster.store.seed('node2', state);
    const status = await (kind === 'backup'
      ? scheduler.backupStatus('filesystem', state.id, {})
      : scheduler.restoreStatus('filesystem', state.id, {}));
    t.deepEqual(status, {
      id: state.id,
      backend: 'filesystem',
      path: state.home,
      status: 'TRANSFERRING',
      startedAt: state.startedAt,
      completedAt: state.completedAt,
      size: 3,
    });
  }
});

test('cancelBackup() of an operation another node coordinates is forwarded to it and resolves with its outcome', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 10 } });
  const state = recordedBy(cluster, 'backup', 'theirs', 'TRANSFERRING');
  const { scheduler, forwarded } = schedulerOn(t, cluster, {
    live: ['node1', 'node2'],
    answer: async (_, operation) => {
      t.deepEqual(operation, { kind: 'backup', id: 'theirs', backend: 'backup-filesystem', scope: {} });
      return { ...state, status: 'CANCELED', error: 'backup canceled by user' };
    },
  });
  cluster.store.seed('node2', state);
  await scheduler.cancelBackup('filesystem', 'theirs', {});
  t.deepEqual(forwarded, ['node2: theirs']);
});

test('cancelBackup() forwarded for an operation that succeeded meanwhile throws BackupAlreadySucceededError', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 10 } });
  const state = recordedBy(cluster, 'backup', 'done', 'TRANSFERRED');
  const { scheduler } = schedulerOn(t, cluster, { answer: async () => ({ ...state, status: 'SUCCESS' }) });
  cluster.store.seed('node2', state);
  await t.throwsAsync(scheduler.cancelBackup('filesystem', 'done', {}), { message: 'backup "done" already succeeded' });
});

test('cancelBackup() forwarded to a node that runs it no more looks again, and answers what the provider records once it is gone', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 10 } });
  const state = recordedBy(cluster, 'backup', 'moved', 'TRANSFERRING');
  const { scheduler, forwarded } = schedulerOn(t, cluster, {
    answer: async () => {
      // node2 settled it just before the cancel came: CANCELED in the provider, forgotten.
      const settled = { ...state, status: 'CANCELED' as const, error: 'backup canceled by user' };
      await writeDescriptor(cluster.backend, settled, { node: 'node2', serverVersion: 'test' });
      cluster.store.takeOver(state, 'node2', settled);
      return undefined;
    },
  });
  cluster.store.seed('node2', state);
  await scheduler.cancelBackup('filesystem', 'moved', {});
  t.deepEqual(forwarded, ['node2: moved']);
});

test('cancelBackup() of an operation whose coordinator does not answer, and that no node takes over, is refused 503 once the wait is over', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 10 } });
  const state = recordedBy(cluster, 'backup', 'stranded', 'TRANSFERRING');
  const { scheduler, forwarded } = schedulerOn(t, cluster, {
    cancelWaitMs: 300,
    answer: async (node) => {
      throw new NodeUnavailableError(node, 'connect ECONNREFUSED');
    },
  });
  cluster.store.seed('node2', state);
  const started = Date.now();
  await t.throwsAsync(scheduler.cancelBackup('filesystem', 'stranded', {}), {
    code: 'STRATA_CLUSTER_CANCEL_UNREACHABLE',
    message:
      'cannot cancel backup stranded now: its coordinator, node node2, does not answer and no other node has taken it over yet; try again in a few seconds',
  } as never);
  t.true(Date.now() - started >= 300, 'it waited for a node to take it over');
  t.true(forwarded.length >= 1 && forwarded.every((line) => line === 'node2: stranded'), forwarded.join(', '));
  t.like(cluster.store.entry(state), { state: { status: 'TRANSFERRING' } }, 'nothing written');
});

test('restoreBackup() takes a backup whose SUCCESS the store holds while its descriptor still says the phase before; another run of that id it does not', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 20 } }, { holdRestores: true });
  const { scheduler } = schedulerOn(t, cluster, { live: ['node1'] });
  await scheduler.createBackup('filesystem', { id: 'racing' });
  t.like(await finished(scheduler, 'backup', 'racing'), { status: 'SUCCESS' });
  const { startedAt } = (await cluster.global('racing')) as { startedAt: string };
  // node2 coordinated it: its outcome is recorded, its last descriptor write not yet done.
  const lagging = { ...recordedBy(cluster, 'backup', 'racing', 'TRANSFERRED'), nodes: ['node1'], startedAt };
  await writeDescriptor(cluster.backend, lagging, { node: 'node2', serverVersion: 'test' });
  cluster.store.seed('node2', { ...lagging, status: 'SUCCESS' });
  await cluster.node('node1').db.deleteClass('Article');
  t.like(await scheduler.restoreBackup('filesystem', 'racing', {}), { status: 'STARTED', classes: ['Article'] });
  t.like(await finished(scheduler, 'restore', 'racing'), { status: 'SUCCESS' });

  // A SUCCESS recorded for another run of the id (another startedAt) says nothing of this one.
  await cluster.node('node1').db.deleteClass('Article');
  cluster.store.takeOver(lagging, 'node2', { ...lagging, status: 'SUCCESS', startedAt: '2020-01-01T00:00:00.000Z' });
  await t.throwsAsync(scheduler.restoreBackup('filesystem', 'racing', {}), {
    code: 'STRATA_BACKUP_NOT_RESTORABLE',
  } as never);
});

test('restoreBackup() on a cluster creates the restored classes through the cluster, placed on the nodes that restored them', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 30 } }, { holdRestores: true });
  const { scheduler, created } = schedulerOn(t, cluster, { live: ['node1'] });
  await scheduler.createBackup('filesystem', { id: 'round' });
  t.like(await finished(scheduler, 'backup', 'round'), { status: 'SUCCESS' });
  await cluster.node('node1').db.deleteClass('Article');

  t.like(await scheduler.restoreBackup('filesystem', 'round', {}), { status: 'STARTED', classes: ['Article'] });
  t.like(await finished(scheduler, 'restore', 'round'), { status: 'SUCCESS' });
  t.is(created.length, 1);
  t.deepEqual(
    created[0]?.map((record) => [record.definition.class, record.shards.map((shard) => shard.node)]),
    [['Article', ['node1']]],
  );
  t.is((await cluster.node('node1').db.listObjects({ className: 'Article', limit: 100 })).length, 30);
});

test('recover() adopts the orphans it can run and settles them; one whose module is not enabled is left', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 10 }, node2: {} });
  const { scheduler } = schedulerOn(t, cluster, { live: ['node1'] });
  const foreign = {
    ...recordedBy(cluster, 'backup', 'foreign', 'SUCCESS'),
    backend: 'backup-azure',
    backendNames: ['backup-azure'],
  };
  const orphan = recordedBy(cluster, 'backup', 'orphan', 'SUCCESS');
  cluster.store.seed('node2', foreign, false);
  cluster.store.seed('node2', orphan, false);

  await scheduler.recover();
  await until(() => cluster.store.entry(orphan) === undefined);
  t.like(await cluster.global('orphan'), { status: 'SUCCESS', leader: 'node1' });
  t.like(cluster.store.entry(foreign), { coordinator: 'node2', claimed: false });
  t.true(cluster.journal.includes('adopted by node1'));
});

test('an orphan being adopted holds the slot: a backup asked meanwhile waits for it to be settled, then runs', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 10 }, node2: {} });
  const { scheduler } = schedulerOn(t, cluster, { live: ['node1'] });
  const orphan = recordedBy(cluster, 'backup', 'late-orphan', 'SUCCESS');
  cluster.store.seed('node2', orphan, false);
  const adopting = gate();
  const answer = gate();
  cluster.store.beforeAdopt = async () => {
    adopting.open();
    await answer.opened;
  };
  await scheduler.recover();
  await adopting.opened;
  // The slot is taken before the claim, so the adoption never wins a claim this node cannot run; a
  // finished orphan only needs its outcome written, so the backup waits for that rather than refusing.
  let created = false;
  const creating = scheduler.createBackup('filesystem', { id: 'meanwhile' }).then(() => {
    created = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.false(created, 'not while the adoption holds the slot');
  answer.open();
  await creating;
  t.is(cluster.store.entry(orphan), undefined, `still recorded: ${JSON.stringify(cluster.store.entry(orphan))}`);
  t.like(await cluster.global('late-orphan'), { status: 'SUCCESS' });
  t.like(await finished(scheduler, 'backup', 'meanwhile'), { status: 'SUCCESS' });
});
