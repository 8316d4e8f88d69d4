import type { Database } from '../db/index.js';
import {
  BackupAlreadySucceededError,
  BackupSpansNodesError,
  ClusterRestoreUnsupportedError,
  LocalBackendOnClusterError,
} from '../errors.js';
import type { ModuleRegistry } from '../modules/registry.js';
import type { BackendScope } from '../provider/backend.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import { realFs } from '../store/index.js';
import { Coordinator } from './coordinator.js';
import { FileOperationStore } from './file-operation-store.js';
import { LocalParticipant } from './local-participant.js';
import type { DescriptorAuthor } from './operation-descriptors.js';
import type { OperationStore } from './operation-store.js';
import type { Participant } from './participant.js';
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
 */

export interface SchedulerOptions {
  readonly db: Database;
  readonly modules: ModuleRegistry;
  readonly nodeName: string;
  readonly dataPath: string;
  readonly serverVersion: string;
  readonly logger: ModuleLogger;
  /** Files are grouped into chunks of about this size (BACKUP_CHUNK_TARGET_SIZE). */
  readonly chunkTargetBytes: number;
  /**
   * On a node of a cluster, every node it has (ever joined). Until backups span the cluster, a backup
   * may take only classes whose shards are all on this node, and restores are refused (they would have
   * to place classes in etcd); a backend local to one machine is refused on more than one node.
   */
  readonly clusterNodes?: () => readonly string[];
}

export class BackupScheduler {
  /** This node's participant: its own backups run on it, and a cluster serves it to other nodes' coordinators. */
  readonly participant: Participant;
  readonly #options: SchedulerOptions;
  readonly #store: OperationStore;
  readonly #coordinator: Coordinator;
  readonly #author: DescriptorAuthor;
  readonly #context: QueryContext;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#store = FileOperationStore.open(realFs, options.dataPath);
    this.#author = { node: options.nodeName, serverVersion: options.serverVersion };
    const participant = new LocalParticipant(options);
    this.participant = participant;
    this.#coordinator = new Coordinator({
      store: this.#store,
      participants: () => [participant],
      nodes: () => [options.nodeName],
      author: this.#author,
      logger: options.logger,
    });
    const requests: RequestContext = { modules: options.modules, dataPath: options.dataPath };
    this.#context = { ...requests, coordinator: this.#coordinator, store: this.#store, logger: options.logger };
  }

  /** Starts a backup; resolves once it is validated and recorded as STARTED. */
  async createBackup(backendName: string, request: BackupRequest): Promise<Record<string, unknown>> {
    const available = this.#options.db.classes().map((c) => c.class);
    const plan = planBackup(this.#context, backendName, request, available);
    this.#requireReachable(plan);
    if (this.#options.clusterNodes !== undefined) this.#requireLocal(plan.classes);
    await this.#coordinator.backup(plan);
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
    if (this.#options.clusterNodes !== undefined) throw new ClusterRestoreUnsupportedError();
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

  /** Start-up: settles every operation a crash interrupted (recovery.ts). */
  recover(): Promise<void> {
    const { modules, db, dataPath, logger } = this.#options;
    return recoverOperations({ store: this.#store, modules, db, dataPath, author: this.#author, logger });
  }

  /** Stops a running operation (it ends FAILED: "node stopped during ..."), and waits for it. */
  close(): Promise<void> {
    return this.#coordinator.close();
  }

  /** Refuses, as Weaviate does, a backend on one machine's disk for a cluster of more than one node. */
  #requireReachable(target: Target): void {
    const nodes = this.#options.clusterNodes?.() ?? [];
    if (nodes.length > 1 && !target.module.capabilities.external) throw new LocalBackendOnClusterError();
  }

  /** Refuses a backup of a class with shards on other nodes: this node can copy only its own. */
  #requireLocal(classes: readonly string[]): void {
    for (const name of classes) {
      const elsewhere = this.#options.db.placement(name).filter((shard) => shard.node !== this.#options.nodeName);
      if (elsewhere.length > 0) throw new BackupSpansNodesError(name, [...new Set(elsewhere.map((s) => s.node))]);
    }
  }

  async #cancel(kind: 'backup' | 'restore', where: Target): Promise<void> {
    const outcome = await this.#coordinator.cancel(kind, where);
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
