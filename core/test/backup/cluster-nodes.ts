/**
 * Nodes of a cluster in one process, for the coordinator's tests: each node a real Database on a data
 * path of its own (only its own shards open, as in a cluster) and a real LocalParticipant, all of them
 * backing up into one directory through the real backup-filesystem module, and one in-memory operation
 * store (fake-operation-store.ts) that every coordinator writes through its node's view.
 *
 * The backend every participant and coordinator uses records each descriptor it is given in the
 * store's journal (`write backup_config.json STARTED`), so a test reads the order of the store's
 * writes and the provider's in one list; it can also hold chunk uploads (a node mid-transfer) and
 * refuse descriptor writes (a provider that cannot be written).
 */
import 'reflect-metadata';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { Coordinator, type CoordinatorOptions } from '../../src/backup/coordinator.js';
import type { GlobalDescriptor } from '../../src/backup/descriptors.js';
import { LocalParticipant } from '../../src/backup/local-participant.js';
import type { OperationState } from '../../src/backup/operation-store.js';
import type { OperationRef, Participant, ParticipantEvent } from '../../src/backup/participant.js';
import {
  type BackupPlan,
  planBackup,
  planRestore,
  type RequestContext,
  type RestoreRequest,
} from '../../src/backup/requests.js';
import { Database } from '../../src/db/index.js';
import { loadModules, ModuleRegistry } from '../../src/modules/index.js';
import type { BackupBackend } from '../../src/provider/backend.js';
import { LsmStoreFactory } from '../../src/store/index.js';
import { filesystemModule, gate } from '../helpers/backups.js';
import { capturedLogger } from '../helpers/logs.js';
import { FakeOperationStore } from './fake-operation-store.js';

export { gate };

/** One node: its database and participant. */
export interface ClusterNode {
  readonly name: string;
  readonly db: Database;
  readonly dataPath: string;
  participant: LocalParticipant;
}

export interface Cluster {
  /** BACKUP_FILESYSTEM_PATH: where every node's backups go. */
  readonly backups: string;
  readonly modules: ModuleRegistry;
  /** The recording backend, as the module registry hands it out. */
  readonly backend: BackupBackend;
  readonly store: FakeOperationStore;
  /** The store's writes and the provider's descriptors, in the order they happened. */
  readonly journal: string[];
  readonly nodes: ReadonlyMap<string, ClusterNode>;
  /** Every coordinator's log lines, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  readonly context: RequestContext;
  node(name: string): ClusterNode;
  /** A fresh participant of node `name` (as after a restart: it holds no operation), made its participant. */
  restart(name: string): LocalParticipant;
  /** A coordinator on node `self` over the participants `participant` gives (each node's own by default). */
  coordinator(self: string, options?: CoordinatorSetup): Coordinator;
  /** A backup plan of `classes` with id `id`. */
  plan(id: string, classes: readonly string[]): BackupPlan;
  restorePlan(id: string, request?: RestoreRequest): ReturnType<typeof planRestore>;
  /** The classes each node holds, as a cluster's scheduler reads them from the placement. */
  nodeClasses(classes: readonly string[]): Record<string, string[]>;
  /**
   * Holds every chunk upload (of node `node`, or every node's) until `release()`, or until its signal
   * aborts; `reached` resolves once one is held.
   */
  holdChunks(node?: string): { reached: Promise<void>; release(): void };
  /** Makes writes of backup_config.json with a status `when` accepts fail. */
  refuseDescriptors(when: (status: string) => boolean): void;
  /** backup_config.json of backup `id`, as the provider holds it now (undefined when absent). */
  global(id: string): Promise<GlobalDescriptor | undefined>;
  /** Every file under backup `id` in the provider, relative to it, sorted. */
  files(id: string): Promise<string[]>;
}

export interface CoordinatorSetup {
  /** Node `name`'s participant as this coordinator reaches it; the node's own LocalParticipant by default. */
  readonly participant?: (name: string) => Participant;
  /** The live nodes; every node of the cluster by default. */
  readonly live?: readonly string[];
  /** CoordinatorOptions.cluster; by default one whose finalize does nothing and retries every 5 ms. False: a single node. */
  readonly cluster?: CoordinatorOptions['cluster'] | false;
}

const descriptorFile = (key: string) => /\/(backup_config|restore_config)\.json$/.exec(key)?.[0].slice(1);

/** Objects of class `name` for a batch: small, so a node's shard fits in a few chunks. */
function objects(name: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    class: name,
    properties: { title: `${name} ${i}: ${'lorem ipsum '.repeat(i % 7)}` },
    vector: [i / count, 0.5],
  }));
}

/**
 * Starts the nodes `layout` names, each with its classes and their object counts (`{ node1: {
 * Article: 100 } }`); every node, its data and the backups go after the test.
 */
export async function startCluster(
  t: ExecutionContext,
  layout: Readonly<Record<string, Readonly<Record<string, number>>>>,
  options: {
    holdRestores?: boolean;
    /** Declares the filesystem module reachable from every node (as S3 is), so a scheduler of several live nodes takes it. */
    external?: boolean;
  } = {},
): Promise<Cluster> {
  const root = await mkdtemp(join(tmpdir(), 'strata-cluster-unit-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const backups = join(root, 'backups');
  await mkdir(backups);
  const loaded = await loadModules({ enableModules: filesystemModule, env: { BACKUP_FILESYSTEM_PATH: backups } });
  t.teardown(() => loaded.close());
  const store = new FakeOperationStore();
  const { journal } = store;
  const real = loaded.backend('filesystem');
  const held: Array<{ node: string | undefined; reached: () => void; released: Promise<void> }> = [];
  let refused: (status: string) => boolean = () => false;
  const backend: BackupBackend = {
    homePath: (id, scope) => real.homePath(id, scope),
    checkAccess: (callOptions) => real.checkAccess(callOptions),
    read: (key, callOptions) => real.read(key, callOptions),
    list: (prefix, callOptions) => real.list(prefix, callOptions),
    delete: (key, callOptions) => real.delete(key, callOptions),
    discardPartialWrites: (prefix, callOptions) =>
      real.discardPartialWrites?.(prefix, callOptions) ?? Promise.resolve(0),
    async write(key, body, callOptions) {
      const file = descriptorFile(key);
      if (file !== undefined) {
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        const { status } = JSON.parse(bytes.toString()) as { status: string };
        if (file === 'backup_config.json' && refused(status)) {
          journal.push(`unwritable ${file} ${status}`);
          throw new Error(`the provider refused ${file} (test)`);
        }
        journal.push(`write ${file} ${status}`);
        return real.write(key, Readable.from([bytes]), callOptions);
      }
      const hold = key.includes('/chunk-')
        ? held.find((h) => h.node === undefined || key.includes(`/${h.node}/`))
        : undefined;
      const signal = callOptions?.signal;
      if (hold !== undefined && signal?.aborted !== true) {
        hold.reached();
        await Promise.race([
          hold.released,
          new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true })),
        ]);
      }
      return real.write(key, body, callOptions);
    },
  };
  const modules = new ModuleRegistry(
    loaded.modules.map((module) => ({
      ...module,
      backend,
      capabilities: { ...module.capabilities, external: options.external ?? module.capabilities.external },
    })),
  );
  const { logger, logs } = capturedLogger('info');

  const nodes = new Map<string, ClusterNode>();
  const participantOf = (name: string, db: Database, dataPath: string) =>
    new LocalParticipant({
      db,
      modules,
      nodeName: name,
      dataPath,
      serverVersion: 'test',
      chunkTargetBytes: 4096,
      ...(options.holdRestores === undefined ? {} : { holdRestores: options.holdRestores }),
    });
  for (const [name, classes] of Object.entries(layout)) {
    const dataPath = join(root, name);
    await mkdir(dataPath);
    const db = await Database.open({
      dataPath,
      nodeName: name,
      ownShardsOnly: true,
      storeFactory: new LsmStoreFactory({}),
    });
    t.teardown(() => db.close());
    for (const [className, count] of Object.entries(classes)) {
      await db.createClass({ class: className, properties: [{ name: 'title', dataType: ['text'] }] });
      for (const result of await db.batchObjects(objects(className, count))) {
        if ('error' in result) throw result.error;
      }
    }
    nodes.set(name, { name, db, dataPath, participant: participantOf(name, db, dataPath) });
  }
  const first = nodes.values().next().value as ClusterNode;
  const context: RequestContext = { modules, dataPath: first.dataPath };
  const node = (name: string) => {
    const found = nodes.get(name);
    if (found === undefined) throw new TypeError(`no node ${name} in this test's cluster`);
    return found;
  };

  return {
    backups,
    modules,
    backend,
    store,
    journal,
    nodes,
    logs,
    context,
    node,
    restart(name) {
      const restarted = node(name);
      restarted.participant = participantOf(name, restarted.db, restarted.dataPath);
      return restarted.participant;
    },
    coordinator(self, setup = {}) {
      const live = setup.live ?? [...nodes.keys()];
      const cluster = setup.cluster ?? { finalize: async () => {}, retryStoreMs: 5 };
      return new Coordinator({
        store: store.view(self),
        participants: (names) => names.map((name) => setup.participant?.(name) ?? node(name).participant),
        nodes: () => live,
        author: { node: self, serverVersion: 'test' },
        logger,
        ...(cluster === false ? {} : { cluster }),
      });
    },
    plan: (id, classes) => planBackup(context, 'filesystem', { id }, classes),
    restorePlan: (id, request = {}) => planRestore(context, 'filesystem', id, request),
    nodeClasses(classes) {
      const placed: Record<string, string[]> = {};
      for (const { name, db } of nodes.values()) {
        const own = classes.filter((c) => db.getClass(c) !== undefined);
        if (own.length > 0) placed[name] = own;
      }
      return placed;
    },
    holdChunks(name) {
      const reached = gate();
      const released = gate();
      const hold = { node: name, reached: reached.open, released: released.opened };
      held.push(hold);
      return {
        reached: reached.opened,
        release: () => {
          held.splice(held.indexOf(hold), 1);
          released.open();
        },
      };
    },
    refuseDescriptors(when) {
      refused = when;
    },
    async global(id) {
      try {
        return JSON.parse(await readFile(join(backups, id, 'backup_config.json'), 'utf8')) as GlobalDescriptor;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async files(id) {
      const entries = await readdir(join(backups, id), { recursive: true, withFileTypes: true }).catch(() => []);
      return entries
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name).slice(join(backups, id).length + 1))
        .sort();
    },
  };
}

/** Resolves once `condition()` holds, looking every 5 ms. */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still not so after ${timeoutMs} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves once `coordinator` runs nothing (its operation recorded and its slot free). */
export async function idle(coordinator: Coordinator, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (coordinator.busy) {
    if (Date.now() > deadline) throw new Error(`the coordinator is still busy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves once `participant` reports `operation` done (or holds it no more). */
export async function settled(participant: Participant, operation: OperationRef, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await participant.status(operation);
    if (status === undefined || status.phase === 'DONE') return;
    if (Date.now() > deadline) throw new Error(`${participant.node} still runs ${operation.id} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The last event of `operation` on `participant`: its `done`. */
export async function outcomeOf(participant: Participant, operation: OperationRef): Promise<ParticipantEvent> {
  let last: ParticipantEvent | undefined;
  for await (const event of participant.events(operation)) last = event;
  return last as ParticipantEvent;
}

/**
 * A participant that passes every call to `inner` and keeps their names (`abort node1: reason`), so a
 * test can tell which calls a coordinator made.
 */
export class SpyParticipant implements Participant {
  readonly node: string;
  readonly calls: string[] = [];
  readonly #inner: Participant;

  constructor(inner: Participant) {
    this.#inner = inner;
    this.node = inner.node;
  }

  prepare(request: Parameters<Participant['prepare']>[0]) {
    this.calls.push('prepare');
    return this.#inner.prepare(request);
  }

  commit(operation: OperationRef) {
    this.calls.push('commit');
    return this.#inner.commit(operation);
  }

  events(operation: OperationRef) {
    this.calls.push('events');
    return this.#inner.events(operation);
  }

  status(operation: OperationRef) {
    return this.#inner.status(operation);
  }

  abort(operation: OperationRef, reason: string) {
    this.calls.push(`abort: ${reason}`);
    return this.#inner.abort(operation, reason);
  }

  /** The aborts it received. */
  get aborts(): string[] {
    return this.calls.filter((call) => call.startsWith('abort'));
  }
}

/** The ref of `state` (or a plan), as participants key it. */
export const refOf = (state: Pick<OperationState, 'kind' | 'id' | 'backend' | 'scope'>): OperationRef => ({
  kind: state.kind,
  id: state.id,
  backend: state.backend,
  scope: state.scope,
});

/** The backup `plan` names, as participants key it. */
export const backupRef = (plan: BackupPlan): OperationRef => ({
  kind: 'backup',
  id: plan.id,
  backend: plan.module.name,
  scope: plan.scope,
});
