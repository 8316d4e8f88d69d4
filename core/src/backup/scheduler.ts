import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../db/index.js';
import {
  BackupAlreadySucceededError,
  BackupInProgressError,
  CancelUnreachableError,
  LocalBackendOnClusterError,
  NodeUnavailableError,
} from '../errors.js';
import type { ModuleRegistry } from '../modules/registry.js';
import type { BackendScope } from '../provider/backend.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import { realFs } from '../store/index.js';
import type { BackupCluster } from './backup-cluster.js';
import { Coordinator } from './coordinator.js';
import { FINISHED } from './descriptors.js';
import { FileOperationStore } from './file-operation-store.js';
import type { DescriptorAuthor } from './operation-descriptors.js';
import { type ListedOperation, type OperationState, type OperationStore, operationKey } from './operation-store.js';
import type { OperationRef, Participant } from './participant.js';
import { missingDescriptor, readGlobalDescriptor, readRestoreDescriptor } from './read-descriptors.js';
import { recoverOperations } from './recovery.js';
import {
  type BackupRequest,
  planBackup,
  planRestore,
  type RequestContext,
  type RestoreRequest,
  type Target,
  target,
} from './requests.js';
import { restoredRecords } from './restored-classes.js';
import { clearStaging } from './staging.js';
import {
  type BackupListItem,
  listBackups,
  type OperationStatus,
  operationStatus,
  type QueryContext,
} from './status-queries.js';

/**
 * Weaviate's backup use cases, as the REST API and the CLI call them: each request is validated into
 * a plan (requests.ts) and handed to the coordinator (coordinator.ts), which runs it with this node's
 * participant (local-participant.ts); queries answer from the coordinator, the operation store and the
 * provider (status-queries.ts); start-up settles what a crash interrupted (recovery.ts).
 *
 * On a cluster, the operation store is etcd's: any node coordinates the operations it receives over
 * the participants of every node holding their classes, answers every operation's status, forwards a
 * cancel to its coordinator, and adopts the operations of a coordinator that died. One operation at a
 * time runs in the whole cluster, as in Weaviate.
 */

/**
 * How long a cancel waits for an operation whose coordinator died to be adopted by another node
 * (its lease's TTL and a moment), before it answers that it cannot cancel it now.
 */
export const CANCEL_WAIT_MS = 20_000;
/** How often it looks meanwhile; also how often a cluster's coordinator tries a put etcd failed again. */
const RETRY_MS = 500;

export interface SchedulerOptions {
  readonly db: Database;
  readonly modules: ModuleRegistry;
  readonly nodeName: string;
  readonly dataPath: string;
  readonly serverVersion: string;
  readonly logger: ModuleLogger;
  /** This node's participant (local-participant.ts), which a cluster also serves to other nodes' coordinators. */
  readonly participant: Participant;
  /** The node's cluster; none for a single node. */
  readonly cluster?: BackupCluster | undefined;
  /** How long a cancel waits for another node to coordinate the operation (default {@link CANCEL_WAIT_MS}). */
  readonly cancelWaitMs?: number;
}

export class BackupScheduler {
  readonly #options: SchedulerOptions;
  readonly #store: OperationStore;
  readonly #coordinator: Coordinator;
  readonly #author: DescriptorAuthor;
  readonly #context: QueryContext;
  #stopAdopting: (() => void) | undefined;
  #adopting = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    const { cluster, participant, nodeName } = options;
    this.#store = cluster?.store ?? FileOperationStore.open(realFs, options.dataPath);
    this.#author = { node: nodeName, serverVersion: options.serverVersion };
    this.#coordinator = new Coordinator({
      store: this.#store,
      participants: (nodes) =>
        nodes.map((node) => (node === nodeName || cluster === undefined ? participant : cluster.participant(node))),
      nodes: () => cluster?.liveNodes() ?? [nodeName],
      author: this.#author,
      logger: options.logger,
      ...(cluster === undefined
        ? {}
        : {
            cluster: {
              retryStoreMs: RETRY_MS,
              finalize: async (state) => {
                const backend = options.modules.backend(state.backend);
                const records = await restoredRecords(backend, state, options.db);
                if (records.length > 0) await cluster.createClasses(records);
              },
            },
          }),
    });
    const requests: RequestContext = { modules: options.modules, dataPath: options.dataPath };
    this.#context = { ...requests, coordinator: this.#coordinator, store: this.#store, logger: options.logger };
  }

  /** Starts a backup; resolves once it is validated and recorded as STARTED. */
  async createBackup(backendName: string, request: BackupRequest): Promise<Record<string, unknown>> {
    const available = this.#options.db.classes().map((c) => c.class);
    const plan = planBackup(this.#context, backendName, request, available);
    this.#requireReachable(plan);
    await this.#requireIdle();
    await this.#coordinator.backup(
      plan,
      this.#options.cluster === undefined ? undefined : this.#nodeClasses(plan.classes),
    );
    return {
      id: plan.id,
      backend: backendName,
      path: plan.home,
      status: 'STARTED',
      classes: plan.classes,
      ...(plan.scope.bucket === undefined ? {} : { bucket: plan.scope.bucket }),
    };
  }

  backupStatus(backendName: string, id: string, scope: BackendScope): Promise<OperationStatus> {
    return operationStatus(this.#context, 'backup', backendName, id, scope);
  }

  /** Every backup in the backend's configured location, by start time (damaged ones listed FAILED). */
  listBackups(backendName: string, order: 'asc' | 'desc'): Promise<BackupListItem[]> {
    return listBackups(this.#context, backendName, order);
  }

  /**
   * Cancels a running backup: it reads CANCELLING at once, and this resolves once it is CANCELED. A
   * canceled or failed one is left as it is.
   */
  cancelBackup(backendName: string, id: string, scope: BackendScope): Promise<void> {
    return this.#cancel('backup', target(this.#context, backendName, id, scope));
  }

  /**
   * Starts restoring a backup; resolves once every check passed and the restore is recorded. Every
   * descriptor is checked field by field before anything is written (a hostile one is refused 422).
   */
  async restoreBackup(backendName: string, id: string, request: RestoreRequest): Promise<Record<string, unknown>> {
    const plan = planRestore(this.#context, backendName, id, request);
    this.#requireReachable(plan);
    await this.#requireIdle();
    const classes = await this.#coordinator.restore(plan);
    return { id, backend: backendName, path: plan.home, status: 'STARTED', classes };
  }

  restoreStatus(backendName: string, id: string, scope: BackendScope): Promise<OperationStatus> {
    return operationStatus(this.#context, 'restore', backendName, id, scope);
  }

  /**
   * Cancels a running restore, unless it is already attaching its classes (FINALIZING): it reads
   * CANCELLING at once, and this resolves once it is CANCELED.
   */
  cancelRestore(backendName: string, id: string, scope: BackendScope): Promise<void> {
    return this.#cancel('restore', target(this.#context, backendName, id, scope));
  }

  /**
   * Start-up: settles every operation a crash interrupted (recovery.ts). On a cluster, removes this
   * node's staging and from then on adopts the operations of coordinators that died (this node's own
   * of before a restart among them, once its earlier lease expired).
   */
  async recover(): Promise<void> {
    const { modules, db, dataPath, logger, cluster } = this.#options;
    if (cluster === undefined) {
      await recoverOperations({ store: this.#store, modules, db, dataPath, author: this.#author, logger });
      return;
    }
    await clearStaging(dataPath);
    this.#stopAdopting = cluster.store.watchOrphans((orphans) => void this.#adopt(cluster, orphans));
  }

  /**
   * Cancels the operation `operation` names if this node coordinates it (a cancel another node
   * received and forwarded): resolves with its state once settled, undefined when it runs elsewhere.
   */
  cancelHere(operation: OperationRef): Promise<OperationState | undefined> {
    const where = target(this.#context, operation.backend, operation.id, operation.scope);
    return this.#coordinator.cancel(operation.kind, where);
  }

  /**
   * Stops a running operation (it ends FAILED: "node stopped during ..."), and waits for it. On a
   * cluster the operation is handed over instead: another node adopts it once this node has left.
   */
  close(): Promise<void> {
    this.#stopAdopting?.();
    return this.#coordinator.close();
  }

  /** Refuses, as Weaviate does, a backend on one machine's disk for a cluster of more than one node. */
  #requireReachable(target: Target): void {
    const nodes = this.#options.cluster?.liveNodes() ?? [];
    if (nodes.length > 1 && !target.module.capabilities.external) throw new LocalBackendOnClusterError();
  }

  /** On a cluster, refuses a new operation while another runs anywhere in it (Weaviate's rule too). */
  async #requireIdle(): Promise<void> {
    if (this.#options.cluster === undefined) return;
    const running = (await this.#store.list()).find((state) => !FINISHED.has(state.status));
    if (running !== undefined) throw new BackupInProgressError(running.kind, running.id);
  }

  /** The classes each node holds shards of, of `classes`, in their order. */
  #nodeClasses(classes: readonly string[]): Record<string, string[]> {
    const nodes: Record<string, string[]> = {};
    for (const name of classes) {
      for (const node of new Set(this.#options.db.placement(name).map((shard) => shard.node))) {
        nodes[node] = [...(nodes[node] ?? []), name];
      }
    }
    return nodes;
  }

  /** Adopts the first orphan this node can run (its module enabled, its slot free); another node may win it. */
  async #adopt(cluster: BackupCluster, orphans: readonly ListedOperation[]): Promise<void> {
    if (this.#adopting) return;
    this.#adopting = true;
    try {
      for (const listed of orphans) {
        const module = this.#options.modules.find(listed.state.backend);
        if (module === undefined || this.#coordinator.busy) continue;
        try {
          await this.#coordinator.adopt(listed, module.backend, () => cluster.store.adopt(listed));
        } catch (error) {
          this.#options.logger.warn(
            { id: listed.state.id, err: error },
            `could not adopt ${listed.state.kind} ${listed.state.id}`,
          );
        }
      }
    } finally {
      this.#adopting = false;
    }
  }

  /**
   * Cancels an operation another node coordinates: forwarded to it, or, while its coordinator is
   * dead and not yet replaced, to the node that adopts it.
   * @throws CancelUnreachableError when no node coordinates it within {@link CANCEL_WAIT_MS}
   */
  async #cancelElsewhere(
    cluster: BackupCluster,
    kind: OperationRef['kind'],
    where: Target,
  ): Promise<OperationState | undefined> {
    const ref: OperationRef = { kind, id: where.id, backend: where.module.name, scope: where.scope };
    const key = operationKey(ref);
    const deadline = Date.now() + (this.#options.cancelWaitMs ?? CANCEL_WAIT_MS);
    let coordinator = '';
    for (;;) {
      const { operations } = await cluster.store.snapshot();
      const listed = operations.find((o) => operationKey(o.state) === key && !FINISHED.has(o.state.status));
      if (listed === undefined) return undefined;
      coordinator = listed.coordinator;
      if (listed.claimed && coordinator !== this.#options.nodeName) {
        try {
          const state = await cluster.cancelOn(coordinator, ref);
          if (state !== undefined) return state;
        } catch (error) {
          if (!NodeUnavailableError.is(error)) throw error;
        }
      }
      if (Date.now() > deadline) throw new CancelUnreachableError(kind, where.id, coordinator);
      await sleep(RETRY_MS);
    }
  }

  async #cancel(kind: 'backup' | 'restore', where: Target): Promise<void> {
    const { cluster } = this.#options;
    let outcome = await this.#coordinator.cancel(kind, where);
    if (outcome === undefined && cluster !== undefined) outcome = await this.#cancelElsewhere(cluster, kind, where);
    const status =
      outcome?.status ??
      (kind === 'backup'
        ? await readGlobalDescriptor(where.backend, where.id, where.scope)
        : await readRestoreDescriptor(where.backend, where.id, where.scope)
      )?.status;
    if (status === undefined) throw missingDescriptor(kind, where.id, where.home);
    if (status === 'SUCCESS') throw new BackupAlreadySucceededError(kind, where.id);
  }
}
