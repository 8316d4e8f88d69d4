/**
 * A participant node for the tests of the participant calls: a real node's Database and filesystem
 * backend, a LocalParticipant over them served by a real internal API on a free port, and, on the
 * coordinator's side, NodeCalls through a PeerClient to it, a RemoteParticipant and a Coordinator.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { Coordinator } from '../../src/backup/coordinator.js';
import { FileOperationStore } from '../../src/backup/file-operation-store.js';
import { LocalParticipant } from '../../src/backup/local-participant.js';
import type { OperationRef, ParticipantEvent } from '../../src/backup/participant.js';
import { type InternalApi, startInternalApi } from '../../src/cluster/internal-api.js';
import { localHandlers } from '../../src/cluster/local-handlers.js';
import { NodeCalls } from '../../src/cluster/node-calls.js';
import type { PeerCallName } from '../../src/cluster/peer-calls.js';
import { PeerClient } from '../../src/cluster/peer-client.js';
import { RemoteParticipant, type RemoteParticipantOptions } from '../../src/cluster/remote-participant.js';
import { realFs } from '../../src/store/index.js';
import { type BackupNode, startBackupNode } from '../helpers/backups.js';
import { capturedLogger } from '../helpers/logs.js';

/** The participant's node name, as the node's own Database has it. */
/** A node that coordinates nothing: every forwarded cancel finds no operation. */
const NO_COORDINATOR = { cancel: async () => undefined };

export const NODE = 'node1';

export interface ParticipantNode {
  readonly node: BackupNode;
  readonly local: LocalParticipant;
  readonly api: InternalApi;
  /** The internal API's log lines, parsed (one at debug per call answered). */
  readonly logs: Array<Record<string, unknown>>;
  /** A RemoteParticipant of the node, calling through a PeerClient with `timeouts`. */
  remote(options?: RemoteParticipantOptions, timeouts?: Partial<Record<PeerCallName, number>>): RemoteParticipant;
}

/** Starts the node and its internal API; both stop after the test. */
export async function startParticipantNode(t: ExecutionContext): Promise<ParticipantNode> {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '4KiB' });
  const { db, modules } = node.node;
  const local = new LocalParticipant({
    db,
    modules,
    nodeName: NODE,
    dataPath: node.dataPath,
    serverVersion: 'test',
    chunkTargetBytes: 4096,
  });
  const { logger, logs } = capturedLogger('debug');
  const api = await startInternalApi({
    host: '127.0.0.1',
    port: 0,
    handlers: localHandlers(db, local, NO_COORDINATOR),
    logger,
  });
  t.teardown(() => api.close());
  const members = () => [{ name: NODE, internalUrl: api.url, version: 'test' }];
  const remote = (options?: RemoteParticipantOptions, timeouts: Partial<Record<PeerCallName, number>> = {}) =>
    new RemoteParticipant(
      NODE,
      new NodeCalls('coordinator', localHandlers(db, local, NO_COORDINATOR), new PeerClient({ timeouts }), members),
      options,
    );
  return { node, local, api, logs, remote };
}

/** The calls the internal API answered, in order (`participantPrepare`, ...). */
export const answeredCalls = (logs: ReadonlyArray<Record<string, unknown>>): string[] =>
  logs
    .filter((line) => line.msg === 'internal call answered')
    .map((line) => String(line.call).split('/').pop() as string);

/** A coordinator whose one participant is `participant`, with an operation store of its own. */
export async function coordinatorOf(t: ExecutionContext, node: BackupNode, participant: RemoteParticipant) {
  const storeDir = await mkdtemp(join(tmpdir(), 'strata-operations-'));
  t.teardown(() => rm(storeDir, { recursive: true, force: true }));
  const coordinator = new Coordinator({
    store: FileOperationStore.open(realFs, storeDir),
    participants: () => [participant],
    nodes: () => [NODE],
    author: { node: NODE, serverVersion: 'test' },
    logger: node.node.logger,
  });
  const { modules } = node.node;
  const context = { modules, dataPath: node.dataPath };
  const finished = async (kind: 'backup' | 'restore', id: string) => {
    const target = { module: modules.find('filesystem'), id, scope: {} } as Parameters<Coordinator['live']>[1];
    while ((await coordinator.live(kind, target)) !== undefined)
      await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return { coordinator, context, finished };
}

/** A backup of `classes` of the node, as a coordinator prepares it. */
export const backupRequest = (id: string, classes: readonly string[]) => ({
  kind: 'backup' as const,
  id,
  backend: 'backup-filesystem',
  scope: {},
  classes,
  compression: 'DefaultCompression' as const,
  concurrency: 2,
  startedAt: new Date().toISOString(),
});

/** Every event of `events` until it ends. */
export async function collect(events: AsyncIterable<ParticipantEvent>): Promise<ParticipantEvent[]> {
  const all: ParticipantEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

/** Waits until `participant` reports `operation` done. */
export async function untilDone(
  participant: { status(operation: OperationRef): Promise<{ phase: string } | undefined> },
  operation: OperationRef,
): Promise<void> {
  while ((await participant.status(operation))?.phase !== 'DONE')
    await new Promise((resolve) => setTimeout(resolve, 10));
}
