import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { Coordinator } from '../../src/backup/coordinator.js';
import { FileOperationStore } from '../../src/backup/file-operation-store.js';
import { LocalParticipant } from '../../src/backup/local-participant.js';
import type { OperationRef, Participant, ParticipantEvent } from '../../src/backup/participant.js';
import { planBackup, planRestore } from '../../src/backup/requests.js';
import { RestoreConflictError, RestoreFinalizingError, reviveError, serializeError } from '../../src/errors.js';
import { realFs } from '../../src/store/index.js';
import { type BackupNode, holdChunks, readAll, seed, startBackupNode } from '../helpers/backups.js';

/**
 * The coordinator must not assume its participants share its process: here every call to the
 * participant crosses a boundary as a network would make it (JSON both ways, errors by code, a turn
 * of the event loop before and after), and a backup and a restore still run end to end.
 */
class Remote implements Participant {
  readonly node: string;
  readonly #inner: Participant;
  readonly calls: string[] = [];

  constructor(inner: Participant) {
    this.#inner = inner;
    this.node = inner.node;
  }

  async #cross<T>(name: string, call: () => Promise<T>): Promise<T> {
    this.calls.push(name);
    await turn();
    try {
      const result = await call();
      await turn();
      return result === undefined ? result : JSON.parse(JSON.stringify(result));
    } catch (error) {
      throw reviveError(JSON.parse(JSON.stringify(serializeError(error))));
    }
  }

  prepare(request: Parameters<Participant['prepare']>[0]) {
    const sent = JSON.parse(JSON.stringify(request));
    return this.#cross('prepare', () => this.#inner.prepare(sent));
  }

  commit(operation: OperationRef) {
    return this.#cross('commit', () => this.#inner.commit(JSON.parse(JSON.stringify(operation))));
  }

  async *events(operation: OperationRef): AsyncIterable<ParticipantEvent> {
    this.calls.push('events');
    for await (const event of this.#inner.events(JSON.parse(JSON.stringify(operation)))) {
      await turn();
      yield JSON.parse(JSON.stringify(event));
    }
  }

  status(operation: OperationRef) {
    return this.#cross('status', () => this.#inner.status(JSON.parse(JSON.stringify(operation))));
  }

  abort(operation: OperationRef, reason: string) {
    return this.#cross('abort', () => this.#inner.abort(JSON.parse(JSON.stringify(operation)), reason));
  }
}

/** A coordinator over the node's own data through `wrap(local participant)`, with a store of its own. */
async function coordinatorOf(
  t: ExecutionContext,
  node: BackupNode,
  wrap: (local: Participant) => Participant,
  stopGraceMs?: number,
) {
  const { db, modules } = node.node;
  const storeDir = await mkdtemp(join(tmpdir(), 'strata-operations-'));
  t.teardown(() => rm(storeDir, { recursive: true, force: true }));
  const local = new LocalParticipant({
    db,
    modules,
    nodeName: 'node1',
    dataPath: node.dataPath,
    serverVersion: 'test',
    chunkTargetBytes: 4096,
  });
  const store = FileOperationStore.open(realFs, storeDir);
  const coordinator = new Coordinator({
    store,
    participants: () => [wrap(local)],
    nodes: () => ['node1'],
    author: { node: 'node1', serverVersion: 'test' },
    logger: node.node.logger,
    ...(stopGraceMs === undefined ? {} : { stopGraceMs }),
  });
  const context = { modules, dataPath: node.dataPath };
  const finished = async (kind: 'backup' | 'restore', id: string) => {
    const target = { module: modules.find('filesystem'), id, scope: {} } as Parameters<Coordinator['live']>[1];
    while ((await coordinator.live(kind, target)) !== undefined)
      await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return { coordinator, store, context, finished };
}

test('a backup and a restore run through a participant that shares nothing with the coordinator', async (t) => {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '4KiB' });
  const objects = await seed(node, 'Article', 200, 2);
  let remote: Remote | undefined;
  const { coordinator, context, finished } = await coordinatorOf(t, node, (local) => {
    remote = new Remote(local);
    return remote;
  });

  await coordinator.backup(planBackup(context, 'filesystem', { id: 'remote' }, ['Article']));
  await finished('backup', 'remote');
  t.like((await node.request('GET', '/v1/backups/filesystem/remote')).body, { status: 'SUCCESS' });

  const refused = await t.throwsAsync(coordinator.restore(planRestore(context, 'filesystem', 'remote', {})));
  t.true(refused instanceof RestoreConflictError, 'a refusal comes back as the same typed error');
  t.regex(String(refused?.message), /^cannot restore class Article: already exists/);

  await node.request('DELETE', '/v1/schema/Article');
  t.deepEqual(await coordinator.restore(planRestore(context, 'filesystem', 'remote', {})), ['Article']);
  await finished('restore', 'remote');
  t.like((await node.request('GET', '/v1/backups/filesystem/remote/restore')).body, { status: 'SUCCESS' });
  t.deepEqual(await readAll(node, 'Article'), objects);
  for (const call of ['prepare', 'commit', 'events', 'status']) t.true(remote?.calls.includes(call), call);
});

test('a participant that refuses to stop fails the cancel with its typed error; the operation goes on', async (t) => {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '4KiB' });
  await seed(node, 'Article', 200);
  const { coordinator, context, finished } = await coordinatorOf(t, node, (local) => {
    const refusing = new Remote(local);
    refusing.abort = async () => {
      throw reviveError(serializeError(new RestoreFinalizingError('stubborn')));
    };
    return refusing;
  });
  const hold = holdChunks(node, 'write');
  t.teardown(() => hold.release());
  const plan = planBackup(context, 'filesystem', { id: 'stubborn' }, ['Article']);
  await coordinator.backup(plan);
  await hold.reached;
  const refused = await t.throwsAsync(coordinator.cancel('backup', plan));
  t.true(refused instanceof RestoreFinalizingError);
  const after = (await coordinator.live('backup', plan))?.state;
  t.true(after?.status === 'STARTED' || after?.status === 'TRANSFERRING', `no longer CANCELLING: ${after?.status}`);
  t.falsy(after?.cancelRequested);
  hold.release();
  await finished('backup', 'stubborn');
  t.like((await node.request('GET', '/v1/backups/filesystem/stubborn')).body, { status: 'SUCCESS' });
});

test('stopping waits for a stuck operation no longer than the grace, and leaves it recorded for the next start', async (t) => {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '4KiB' });
  await seed(node, 'Article', 100);
  // A participant that never hears the abort: as one stuck in a provider call that ignores its signal.
  const { coordinator, store, context, finished } = await coordinatorOf(
    t,
    node,
    (local) => {
      const deaf = new Remote(local);
      deaf.abort = async () => {};
      return deaf;
    },
    200,
  );
  const hold = holdChunks(node, 'write');
  t.teardown(() => hold.release());
  const plan = planBackup(context, 'filesystem', { id: 'stuck' }, ['Article']);
  await coordinator.backup(plan);
  await hold.reached;
  const ticks = { count: 0 };
  const ticking = setInterval(() => ticks.count++, 50);
  await coordinator.close();
  clearInterval(ticking);
  t.true(ticks.count < 20, `close() returned after the grace (${ticks.count} ticks of 50 ms)`);
  t.like(
    (await store.list())[0],
    { id: 'stuck', status: 'TRANSFERRING' },
    'recorded at its last phase, for the next start to settle',
  );
  // Let it end before the node and its directories go.
  hold.release();
  await finished('backup', 'stuck');
});
