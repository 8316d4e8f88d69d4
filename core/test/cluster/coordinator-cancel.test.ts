/**
 * The coordinator call of the internal API (coordinator-handlers.ts), as another node makes it: a
 * cancel forwarded to the node that coordinates the operation, answered by that node's scheduler
 * (cancelHere). Its arguments are checked off the wire (400); an operation the node does not run is
 * answered null; one it runs is canceled, and its settled state answered.
 */
import test, { type ExecutionContext } from 'ava';
import type { OperationRef } from '../../src/backup/participant.js';
import { BackupScheduler } from '../../src/backup/scheduler.js';
import { startInternalApi } from '../../src/cluster/internal-api.js';
import { localHandlers } from '../../src/cluster/local-handlers.js';
import { peerCallPath } from '../../src/cluster/peer-calls.js';
import { PeerClient } from '../../src/cluster/peer-client.js';
import { startCluster } from '../backup/cluster-nodes.js';
import { capturedLogger } from '../helpers/logs.js';

/** node1 of a one-node cluster, its scheduler answering the coordinator call of its internal API. */
async function coordinatorNode(t: ExecutionContext) {
  const cluster = await startCluster(t, { node1: { Article: 150 } });
  const { db, dataPath, participant } = cluster.node('node1');
  const scheduler = new BackupScheduler({
    db,
    modules: cluster.modules,
    nodeName: 'node1',
    dataPath,
    serverVersion: 'test',
    logger: capturedLogger('info').logger,
    participant,
    cluster: {
      store: cluster.store.view('node1'),
      liveNodes: () => ['node1'],
      participant: () => participant,
      cancelOn: async () => undefined,
      createClasses: async () => {},
    },
  });
  t.teardown(() => scheduler.close());
  const api = await startInternalApi({
    host: '127.0.0.1',
    port: 0,
    handlers: localHandlers(db, participant, { cancel: (operation) => scheduler.cancelHere(operation) }),
    logger: capturedLogger('warn').logger,
  });
  t.teardown(() => api.close());
  const node = { name: 'node1', internalUrl: api.url };
  const cancel = (operation: unknown) => new PeerClient().call(node, 'coordinatorCancel', { operation } as never);
  return { cluster, scheduler, api, cancel };
}

const OPERATION: OperationRef = { kind: 'backup', id: 'b1', backend: 'backup-filesystem', scope: {} };

const BAD_ARGS: ReadonlyArray<readonly [unknown, string]> = [
  [undefined, 'operation must be an object'],
  [[OPERATION], 'operation must be an object'],
  [{ ...OPERATION, kind: 'drop' }, 'operation.kind must be backup or restore'],
  [{ ...OPERATION, id: 'Not An Id' }, 'operation.id must be a backup id (1 to 128 of a-z, 0-9, "_" and "-")'],
  [{ ...OPERATION, backend: 7 }, 'operation.backend must be a string'],
  [{ ...OPERATION, backend: '' }, 'operation.backend must name a module'],
  [{ ...OPERATION, scope: 'x' }, 'operation.scope must be an object'],
  [{ ...OPERATION, scope: { bucket: 3 } }, 'operation.scope.bucket must be a string'],
  [{ ...OPERATION, scope: { path: null } }, 'operation.scope.path must be a string'],
];

test('coordinatorCancel refuses arguments that name no operation with PeerCallArgsError (400)', async (t) => {
  const { cancel } = await coordinatorNode(t);
  for (const [operation, problem] of BAD_ARGS) {
    const error = await t.throwsAsync(cancel(operation));
    t.like(error, { code: 'STRATA_CLUSTER_INVALID_ARGS', statusCode: 400 }, JSON.stringify(operation));
    t.is(
      error?.message,
      `internal call coordinatorCancel: ${problem}; every node of a cluster must run a version of Strata with the same internal API`,
    );
  }
});

test('coordinatorCancel answers bad arguments 400 on the wire, with the error serialized', async (t) => {
  const { api } = await coordinatorNode(t);
  const response = await fetch(`${api.url}${peerCallPath('coordinatorCancel')}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ operation: { ...OPERATION, kind: 'drop' } }),
  });
  t.is(response.status, 400);
  t.like(((await response.json()) as { error: object }).error, {
    code: 'STRATA_CLUSTER_INVALID_ARGS',
    statusCode: 400,
  });
});

test('coordinatorCancel of an operation the node does not run answers null', async (t) => {
  const { cancel } = await coordinatorNode(t);
  t.is(await cancel(OPERATION), null);
  t.is(await cancel({ ...OPERATION, kind: 'restore', scope: { path: 'elsewhere' } }), null);
});

test('coordinatorCancel naming a module the node has not enabled is refused with its error', async (t) => {
  const { cancel } = await coordinatorNode(t);
  const error = await t.throwsAsync(cancel({ ...OPERATION, backend: 'backup-azure' }));
  t.like(error, { code: 'STRATA_BACKUP_BACKEND_NOT_ENABLED', statusCode: 422 });
});

test('coordinatorCancel of the operation the node runs cancels it and answers its settled state', async (t) => {
  const { cluster, scheduler, cancel } = await coordinatorNode(t);
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  await scheduler.createBackup('filesystem', { id: 'b1' });
  await hold.reached;

  const state = await cancel(OPERATION);
  t.like(state, {
    kind: 'backup',
    id: 'b1',
    backend: 'backup-filesystem',
    status: 'CANCELED',
    error: 'backup canceled by user',
    cancelRequested: true,
  });
  t.like(await cluster.global('b1'), { status: 'CANCELED' });
  t.is(await cancel(OPERATION), null, 'settled: it runs no more');
  t.like(await scheduler.backupStatus('filesystem', 'b1', {}), { status: 'CANCELED' });
  t.deepEqual(await cluster.files('b1'), ['backup_config.json']);
  t.is(cluster.store.entry(OPERATION), undefined);
});
