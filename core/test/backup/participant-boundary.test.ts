import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import test from 'ava';
import { Coordinator } from '../../src/backup/coordinator.js';
import { FileOperationStore } from '../../src/backup/file-operation-store.js';
import { LocalParticipant } from '../../src/backup/local-participant.js';
import type { OperationRef, Participant, ParticipantEvent } from '../../src/backup/participant.js';
import { planBackup, planRestore } from '../../src/backup/requests.js';
import { RestoreConflictError, reviveError, serializeError } from '../../src/errors.js';
import { realFs } from '../../src/store/index.js';
import { readAll, seed, startBackupNode } from '../helpers/backups.js';

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

test('a backup and a restore run through a participant that shares nothing with the coordinator', async (t) => {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '4KiB' });
  const objects = await seed(node, 'Article', 200, 2);
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
  const remote = new Remote(local);
  const coordinator = new Coordinator({
    store: FileOperationStore.open(realFs, storeDir),
    participants: () => [remote],
    nodes: () => ['node1'],
    author: { node: 'node1', serverVersion: 'test' },
    logger: node.node.logger,
  });
  const context = { modules, dataPath: node.dataPath };
  const finished = async (kind: 'backup' | 'restore', id: string) => {
    const plan = { module: modules.find('filesystem'), id, scope: {} } as Parameters<Coordinator['live']>[1];
    while ((await coordinator.live(kind, plan)) !== undefined) await new Promise((resolve) => setTimeout(resolve, 10));
  };

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
  for (const call of ['prepare', 'commit', 'events', 'status']) t.true(remote.calls.includes(call), call);
});
