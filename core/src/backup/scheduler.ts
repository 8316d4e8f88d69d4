import { statfs } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Database } from '../db/index.js';
import {
  BackupAccessError,
  BackupCorruptError,
  BackupExistsError,
  BackupInProgressError,
  BackupNotFoundError,
  BackupRequestError,
  BackupStateError,
  BackupVersionError,
  InvalidBackupIdError,
  RestoreConflictError,
  RestoreNodeError,
  RestoreSpaceError,
} from '../errors.js';
import type { LoadedModule, ModuleRegistry } from '../modules/registry.js';
import type { BackendScope, BackupBackend } from '../provider/backend.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import { runBackup } from './backupper.js';
import { type CompressionLevel, compressionTypeOf } from './chunk-codec.js';
import { selectClasses } from './class-selection.js';
import {
  BACKUP_FORMAT_VERSION,
  type BackupStatus,
  backupKeys,
  CHUNK_NUMBER,
  type ClassDescriptor,
  FINISHED,
  type GlobalDescriptor,
  gibibytes,
  isBackupId,
  MAX_BACKUP_ID_LENGTH,
  type NodeDescriptor,
  type OperationRecord,
  type RestoreDescriptor,
  writeJson,
  ZERO_TIME,
} from './descriptors.js';
import { clearJournal, type JournalEntry, readJournal, writeJournal } from './journal.js';
import { assertOutsideDataPath } from './locations.js';
import { runPool } from './pool.js';
import { type Progress, ProgressCounter } from './progress.js';
import { readGlobalDescriptor, readNodeDescriptor, readRestoreDescriptor } from './read-descriptors.js';
import { runRestore } from './restorer.js';
import { clearStaging } from './staging.js';

const DEFAULT_CPU_PERCENTAGE = 50;
/**
 * Chunks in flight whatever CPUPercentage says: with one, packing and uploading take turns (each part
 * waits for the server's answer). Chunk workers run at the lowest priority, so a second one takes only
 * CPU the node leaves idle. On 2 cores this took an S3 backup from 13.4 s to 11.5 s (bench:s3).
 */
const MIN_CHUNKS_IN_FLIGHT = 2;
const ZSTD_LEVELS = new Set(['ZstdDefaultCompression', 'ZstdBestSpeed', 'ZstdBestCompression']);

/** `POST /v1/backups/{backend}`, as parsed. */
export interface BackupRequest {
  readonly id?: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly config?: {
    readonly CPUPercentage?: number;
    readonly CompressionLevel?: string;
    readonly ChunkSize?: number;
    readonly Bucket?: string;
    readonly Path?: string;
  };
}

/** `POST /v1/backups/{backend}/{id}/restore`, as parsed. */
export interface RestoreRequest {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly node_mapping?: Readonly<Record<string, string>>;
  readonly config?: { readonly CPUPercentage?: number; readonly Bucket?: string; readonly Path?: string };
}

/** What a status query answers (Weaviate's BackupCreateStatusResponse, plus progress). */
export interface OperationStatus {
  readonly id: string;
  readonly backend: string;
  readonly path: string;
  readonly status: BackupStatus;
  readonly error?: string;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly size: number;
  /** Bytes moved of the total, while running (Strata's addition). */
  readonly progress?: Progress;
}

/** One backup in a list (Weaviate's BackupListResponse item). */
export interface BackupListItem {
  readonly id: string;
  readonly classes: readonly string[];
  readonly status: BackupStatus;
  /** Why a damaged backup is listed FAILED (Strata's addition). */
  readonly error?: string;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly size: number;
}

interface Operation {
  readonly kind: 'backup' | 'restore';
  readonly id: string;
  readonly module: string;
  readonly scope: BackendScope;
  readonly home: string;
  readonly classes: readonly string[];
  readonly startedAt: string;
  readonly progress: ProgressCounter;
  readonly abort: AbortController;
  /** How a backup's chunks are compressed (restores read it from the backup). */
  readonly compression: CompressionLevel;
  status: BackupStatus;
  error: string;
  completedAt: string;
  preCompressionSizeBytes: number;
}

/** Why an operation stopped when the node shut down (as opposed to a user's cancel). */
class NodeStopping extends Error {}

/** The operation holding the one slot, and a promise that settles once its outcome is recorded. */
interface Running {
  readonly operation: Operation;
  readonly done: Promise<void>;
  readonly settle: () => void;
}

/** Objects a backup's clean-up deletes at once. */
const DELETE_CONCURRENCY = 8;

export interface SchedulerOptions {
  readonly db: Database;
  readonly modules: ModuleRegistry;
  readonly nodeName: string;
  readonly dataPath: string;
  readonly serverVersion: string;
  readonly logger: ModuleLogger;
  /** Files are grouped into chunks of about this size (BACKUP_CHUNK_TARGET_SIZE). */
  readonly chunkTargetBytes: number;
}

function scopeOf(config: { readonly Bucket?: string; readonly Path?: string } | undefined): BackendScope {
  return {
    ...(config?.Bucket ? { bucket: config.Bucket } : {}),
    ...(config?.Path ? { path: config.Path } : {}),
  };
}

const sameScope = (a: BackendScope, b: BackendScope) =>
  (a.bucket ?? '') === (b.bucket ?? '') && (a.path ?? '') === (b.path ?? '');

/**
 * Backups and restores: Weaviate's backup use cases for one node. Validates requests with Weaviate's
 * rules and messages (and refuses up front what Weaviate only fails late), runs one backup or restore
 * at a time in the background, records every status change in the provider, and on start-up marks an
 * operation a crash interrupted as FAILED instead of leaving it STARTED forever.
 */
export class BackupScheduler {
  readonly #options: SchedulerOptions;
  #running: Running | undefined;
  /** The last finished operation of each kind, for status queries if its final write failed. */
  readonly #finished = new Map<string, Operation>();

  constructor(options: SchedulerOptions) {
    this.#options = options;
  }

  /** Starts a backup; resolves once it is validated and recorded as STARTED. */
  async createBackup(backendName: string, request: BackupRequest): Promise<Record<string, unknown>> {
    const enabled = this.#backend(backendName);
    const { module, backend } = enabled;
    const id = request.id ?? '';
    this.#checkId(id);
    const classes = selectClasses(
      this.#options.db.classes().map((c) => c.class),
      request,
      'backup',
    );
    const compression = (request.config?.CompressionLevel ?? 'DefaultCompression') as CompressionLevel;
    if (ZSTD_LEVELS.has(compression)) {
      throw new BackupRequestError(
        `CompressionLevel ${compression} needs zstd, which Node.js ${process.versions.node} does not provide: use DefaultCompression, BestSpeed, BestCompression or NoCompression`,
      );
    }
    const scope = scopeOf(request.config);
    this.#checkLocation(enabled, id, scope);
    const home = backend.homePath(id, scope);
    const operation = this.#reserve('backup', id, module, scope, home, classes, compression);
    try {
      // First, so a missing bucket or refused credentials are reported as such, not as a failed read.
      try {
        await backend.checkAccess({ scope });
      } catch (error) {
        throw new BackupAccessError((error as Error).message).withCause(error);
      }
      const existing = await readGlobalDescriptor(backend, id, scope).catch((error: unknown) => {
        // A damaged descriptor is still a backup someone may want: never overwritten.
        throw BackupCorruptError.is(error) ? new BackupExistsError(id, home).withCause(error) : error;
      });
      if (existing !== undefined && existing.status !== 'CANCELED') throw new BackupExistsError(id, home);
      if (existing !== undefined) await this.#deleteBackupObjects(backend, id, existing.nodes, scope);
      await this.#writeGlobal(backend, operation);
      writeJournal(this.#options.dataPath, {
        kind: 'backup',
        id,
        backend: module,
        scope,
        startedAt: operation.startedAt,
      });
    } catch (error) {
      this.#release();
      throw error;
    }
    const concurrency = this.#concurrency(request.config?.CPUPercentage);
    this.#start(
      operation,
      () => this.#backup(operation, backend, concurrency),
      (outcome) => this.#writeGlobal(backend, outcome),
    );
    return {
      id,
      backend: backendName,
      path: home,
      status: 'STARTED',
      classes,
      ...(scope.bucket === undefined ? {} : { bucket: scope.bucket }),
    };
  }

  async backupStatus(backendName: string, id: string, scope: BackendScope): Promise<OperationStatus> {
    return this.#status('backup', backendName, id, scope);
  }

  /**
   * Every backup in the backend's configured location, by start time. A damaged descriptor does not
   * break the list: that backup is listed FAILED, with the reason in `error`.
   */
  async listBackups(backendName: string, order: 'asc' | 'desc'): Promise<BackupListItem[]> {
    const { backend } = this.#backend(backendName);
    const ids: string[] = [];
    for await (const object of backend.list('')) {
      const match = /^([^/]+)\/backup_config\.json$/.exec(object.key);
      if (match?.[1] !== undefined) ids.push(match[1]);
    }
    const items: BackupListItem[] = [];
    for (const id of ids) {
      try {
        const descriptor = await readGlobalDescriptor(backend, id, {});
        if (descriptor === undefined) continue;
        items.push({
          id: descriptor.id,
          classes: Object.values(descriptor.nodes).flatMap((node) => node.classes),
          status: descriptor.status,
          startedAt: descriptor.startedAt,
          completedAt: descriptor.completedAt,
          size: gibibytes(descriptor.preCompressionSizeBytes),
        });
      } catch (error) {
        if (!BackupCorruptError.is(error)) throw error;
        this.#options.logger.warn({ id, err: error }, 'listing a damaged backup as FAILED');
        items.push({
          id,
          classes: [],
          status: 'FAILED',
          error: (error as Error).message,
          startedAt: ZERO_TIME,
          completedAt: ZERO_TIME,
          size: 0,
        });
      }
    }
    const direction = order === 'asc' ? 1 : -1;
    return items.sort((a, b) => direction * a.startedAt.localeCompare(b.startedAt));
  }

  /**
   * Cancels a running backup: it reads CANCELLING at once, and this resolves once it is CANCELED. A
   * canceled or failed one is left as it is.
   */
  async cancelBackup(backendName: string, id: string, scope: BackendScope): Promise<void> {
    const enabled = this.#backend(backendName);
    const { module, backend } = enabled;
    this.#checkId(id);
    this.#checkLocation(enabled, id, scope);
    const live = this.#find('backup', id, module, scope);
    if (live !== undefined && this.#running?.operation === live) {
      await this.#cancel(this.#running, new Error('backup canceled by user'));
      // It may have finished its last step before it saw the cancel.
      if (live.status === 'SUCCESS') throw new BackupStateError(`backup ${JSON.stringify(id)} already succeeded`);
      return;
    }
    const descriptor = await readGlobalDescriptor(backend, id, scope);
    if (descriptor === undefined)
      throw new BackupNotFoundError(id, `${backend.homePath(id, scope)}/backup_config.json`);
    if (descriptor.status === 'SUCCESS') throw new BackupStateError(`backup ${JSON.stringify(id)} already succeeded`);
  }

  /**
   * Starts restoring a backup; resolves once every check passed and the restore is recorded. Every
   * descriptor is checked field by field before anything is written (a hostile one is refused 422).
   */
  async restoreBackup(backendName: string, id: string, request: RestoreRequest): Promise<Record<string, unknown>> {
    const enabled = this.#backend(backendName);
    const { module, backend } = enabled;
    this.#checkId(id);
    if ((request.include?.length ?? 0) > 0 && (request.exclude?.length ?? 0) > 0) {
      throw new BackupRequestError("malformed request: 'include' and 'exclude' cannot both contain values");
    }
    const scope = scopeOf(request.config);
    this.#checkLocation(enabled, id, scope);
    const home = backend.homePath(id, scope);
    const global = await readGlobalDescriptor(backend, id, scope);
    if (global === undefined) throw new BackupNotFoundError(id, `${home}/backup_config.json`);
    if (global.status !== 'SUCCESS')
      throw new BackupStateError(`invalid backup in scheduler ${id} status: ${global.status}`);
    if (Number.parseInt(global.version, 10) > Number.parseInt(BACKUP_FORMAT_VERSION, 10)) {
      throw new BackupVersionError(global.version, BACKUP_FORMAT_VERSION);
    }
    const [backupNode, ...others] = Object.keys(global.nodes);
    if (backupNode === undefined || others.length > 0) {
      throw new BackupCorruptError(
        backupKeys.global(id),
        `expected one node, found ${Object.keys(global.nodes).length}`,
      );
    }
    const target = request.node_mapping?.[backupNode] ?? backupNode;
    if (target !== this.#options.nodeName) throw new RestoreNodeError(backupNode, this.#options.nodeName);
    const descriptor = await readNodeDescriptor(backend, id, backupNode, scope);
    if (descriptor === undefined)
      throw new BackupCorruptError(backupKeys.node(id, backupNode), 'the node descriptor is missing');
    const available = descriptor.classes.map((c) => c.name);
    const selected = selectClasses(available, request, 'restore');
    const conflicts = selected.filter((name) => this.#options.db.getClass(name) !== undefined);
    if (conflicts.length > 0) throw new RestoreConflictError(conflicts);
    const classes = descriptor.classes.filter((c) => selected.includes(c.name));
    await this.#checkSpace(classes);

    const operation = this.#reserve('restore', id, module, scope, home, selected, 'DefaultCompression');
    try {
      await this.#writeRestore(backend, operation);
      writeJournal(this.#options.dataPath, {
        kind: 'restore',
        id,
        backend: module,
        scope,
        startedAt: operation.startedAt,
        attaches: classes.map((c) => ({ class: c.name, shards: c.shards.map((shard) => shard.name) })),
      });
    } catch (error) {
      this.#release();
      throw error;
    }
    const concurrency = this.#concurrency(request.config?.CPUPercentage);
    this.#start(
      operation,
      () => this.#restore(operation, backend, descriptor, backupNode, classes, concurrency),
      (outcome) => this.#writeRestore(backend, outcome),
    );
    return { id, backend: backendName, path: home, status: 'STARTED', classes: selected };
  }

  async restoreStatus(backendName: string, id: string, scope: BackendScope): Promise<OperationStatus> {
    return this.#status('restore', backendName, id, scope);
  }

  /**
   * Cancels a running restore, unless it is already attaching its classes (FINALIZING): it reads
   * CANCELLING at once, and this resolves once it is CANCELED.
   */
  async cancelRestore(backendName: string, id: string, scope: BackendScope): Promise<void> {
    const enabled = this.#backend(backendName);
    const { module, backend } = enabled;
    this.#checkId(id);
    this.#checkLocation(enabled, id, scope);
    const live = this.#find('restore', id, module, scope);
    if (live !== undefined && this.#running?.operation === live) {
      if (live.status === 'FINALIZING') {
        throw new BackupStateError(`restore ${JSON.stringify(id)} is applying schema changes and cannot be cancelled`);
      }
      await this.#cancel(this.#running, new Error('restore canceled by user'));
      if (live.status === 'SUCCESS') throw new BackupStateError(`restore ${JSON.stringify(id)} already succeeded`);
      return;
    }
    const descriptor = await readRestoreDescriptor(backend, id, scope);
    if (descriptor === undefined)
      throw new BackupNotFoundError(id, `${backend.homePath(id, scope)}/restore_config.json`);
    if (descriptor.status === 'SUCCESS') throw new BackupStateError(`restore ${JSON.stringify(id)} already succeeded`);
  }

  /**
   * Start-up: an operation recorded in the journal was interrupted by the node going down. A backup is
   * marked FAILED in its provider ("node restarted during backup"), its uploaded chunks and whatever
   * its interrupted writes left are deleted. A restore is marked SUCCESS when its classes were
   * attached before the node died (the schema holds them, with the backup's shards), FAILED otherwise.
   * Staging is removed. Weaviate leaves such operations STARTED, which made them look alive.
   */
  async recover(): Promise<void> {
    const { dataPath, logger } = this.#options;
    await clearStaging(dataPath);
    const entry = readJournal(dataPath);
    if (entry === undefined) return;
    const module = this.#options.modules.find(entry.backend);
    if (module === undefined) {
      logger.warn(
        { id: entry.id, backend: entry.backend },
        `cannot mark the interrupted ${entry.kind} FAILED: its backend is not enabled`,
      );
      return;
    }
    try {
      const outcome =
        entry.kind === 'backup'
          ? await this.#recoverBackup(module.backend, entry)
          : await this.#recoverRestore(module.backend, entry);
      clearJournal(dataPath);
      if (outcome !== undefined) {
        logger.warn({ id: entry.id, backend: entry.backend }, `marked ${entry.kind} ${entry.id} ${outcome}`);
      }
    } catch (error) {
      logger.error({ id: entry.id, err: error }, `could not settle the interrupted ${entry.kind}`);
    }
  }

  async #recoverBackup(backend: BackupBackend, entry: JournalEntry): Promise<string | undefined> {
    const descriptor = await readGlobalDescriptor(backend, entry.id, entry.scope);
    if (descriptor === undefined || FINISHED.has(descriptor.status)) return undefined;
    const reason = 'node restarted during backup';
    const own = descriptor.nodes[this.#options.nodeName];
    const mine = own === undefined ? {} : { [this.#options.nodeName]: own };
    await this.#deleteBackupObjects(backend, entry.id, mine, entry.scope);
    await this.#discardPartialWrites(backend, entry);
    await writeJson(backend, backupKeys.global(entry.id), this.#failed(descriptor, reason), entry.scope);
    return `FAILED: ${reason}`;
  }

  /**
   * Removes what the writes the node was making when it died left in the provider (temporary files,
   * unfinished multipart uploads), for providers that keep such state. A failure (a permission the
   * provider was not given, say) is logged: it must not keep the backup from being marked FAILED.
   */
  async #discardPartialWrites(backend: BackupBackend, entry: JournalEntry): Promise<void> {
    if (backend.discardPartialWrites === undefined) return;
    try {
      // The whole backup: on one node, this node wrote every object of it, descriptors included.
      const discarded = await backend.discardPartialWrites(`${entry.id}/`, { scope: entry.scope });
      if (discarded > 0) {
        this.#options.logger.info(
          { id: entry.id, discarded },
          `removed ${discarded} interrupted writes of ${entry.id}`,
        );
      }
    } catch (error) {
      this.#options.logger.warn(
        { id: entry.id, err: error },
        `could not remove what interrupted writes of ${entry.id} left in the provider`,
      );
    }
  }

  async #recoverRestore(backend: BackupBackend, entry: JournalEntry): Promise<string | undefined> {
    const descriptor = await readRestoreDescriptor(backend, entry.id, entry.scope);
    if (descriptor === undefined || FINISHED.has(descriptor.status)) return undefined;
    const { db } = this.#options;
    const attached =
      entry.attaches?.every(({ class: name, shards }) => {
        if (db.getClass(name) === undefined) return false;
        const present = db.shardsOf(name).map((shard) => shard.name);
        return present.length === shards.length && shards.every((shard) => present.includes(shard));
      }) === true;
    const completedAt = new Date().toISOString();
    const settled = attached
      ? { ...descriptor, status: 'SUCCESS' as const, error: '', completedAt }
      : this.#failed(descriptor, 'node restarted during restore');
    await writeJson(backend, backupKeys.restore(entry.id), settled, entry.scope);
    return attached ? 'SUCCESS: its classes were attached before the node stopped' : `FAILED: ${settled.error}`;
  }

  /** Stops a running operation (it ends FAILED: "node stopped during ..."), and waits for it. */
  async close(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    running.operation.abort.abort(new NodeStopping(`node stopped during ${running.operation.kind}`));
    await running.done;
  }

  #backend(name: string): { module: string; backend: BackupBackend; directory: boolean } {
    const backend = this.#options.modules.backend(name);
    const { name: module, capabilities } = this.#options.modules.find(name) as LoadedModule;
    return { module, backend, directory: capabilities.pathScope === 'directory' };
  }

  /**
   * The status of the running operation of `kind`, else the one its descriptor in the provider records;
   * a damaged descriptor reads FAILED, with the reason.
   */
  async #status(
    kind: 'backup' | 'restore',
    backendName: string,
    id: string,
    scope: BackendScope,
  ): Promise<OperationStatus> {
    const enabled = this.#backend(backendName);
    const { module, backend } = enabled;
    this.#checkId(id);
    this.#checkLocation(enabled, id, scope);
    const live = this.#find(kind, id, module, scope);
    if (live !== undefined) return this.#statusOf(live, backendName);
    const home = backend.homePath(id, scope);
    const summary = { id, backend: backendName, path: home };
    let descriptor: OperationRecord | undefined;
    try {
      descriptor =
        kind === 'backup'
          ? await readGlobalDescriptor(backend, id, scope)
          : await readRestoreDescriptor(backend, id, scope);
    } catch (error) {
      if (!BackupCorruptError.is(error)) throw error;
      const failed = { status: 'FAILED' as const, error: (error as Error).message };
      return { ...summary, ...failed, startedAt: ZERO_TIME, completedAt: ZERO_TIME, size: 0 };
    }
    const key = kind === 'backup' ? backupKeys.global(id) : backupKeys.restore(id);
    if (descriptor === undefined) throw new BackupNotFoundError(id, `${home}/${key.slice(id.length + 1)}`);
    return {
      ...summary,
      status: descriptor.status,
      ...(descriptor.error === '' ? {} : { error: descriptor.error }),
      startedAt: descriptor.startedAt,
      completedAt: descriptor.completedAt,
      size: gibibytes(descriptor.preCompressionSizeBytes),
    };
  }

  /**
   * Refuses a restore whose files would not fit on the data path's filesystem: up front rather than
   * with a full disk, and so that the sizes a hostile descriptor declares cannot fill it.
   */
  async #checkSpace(classes: readonly ClassDescriptor[]): Promise<void> {
    const needed = classes.reduce(
      (sum, cls) => sum + cls.shards.reduce((s, shard) => s + shard.files.reduce((f, file) => f + file.size, 0), 0),
      0,
    );
    const { bavail, bsize } = await statfs(this.#options.dataPath);
    const free = bavail * bsize;
    if (needed > free) throw new RestoreSpaceError(needed, free);
  }

  /** Refuses an id Weaviate would refuse, or one too long to be a directory name and a key segment. */
  #checkId(id: string): void {
    if (!isBackupId(id)) throw new InvalidBackupIdError(id, MAX_BACKUP_ID_LENGTH);
  }

  /** Refuses a location in the node's own data path, for backends that keep backups in directories. */
  #checkLocation(
    { backend, directory }: { backend: BackupBackend; directory: boolean },
    id: string,
    scope: BackendScope,
  ): void {
    if (directory) assertOutsideDataPath(backend, id, scope, this.#options.dataPath);
  }

  #concurrency(cpuPercentage: number | undefined): number {
    const percentage = cpuPercentage === undefined || cpuPercentage === 0 ? DEFAULT_CPU_PERCENTAGE : cpuPercentage;
    return Math.max(MIN_CHUNKS_IN_FLIGHT, Math.round((availableParallelism() * percentage) / 100));
  }

  #reserve(
    kind: Operation['kind'],
    id: string,
    module: string,
    scope: BackendScope,
    home: string,
    classes: readonly string[],
    compression: CompressionLevel,
  ): Operation {
    const running = this.#running?.operation;
    if (running !== undefined) throw new BackupInProgressError(running.kind, running.id);
    const operation: Operation = {
      kind,
      id,
      module,
      scope,
      home,
      classes,
      startedAt: new Date().toISOString(),
      progress: new ProgressCounter(),
      abort: new AbortController(),
      compression,
      status: 'STARTED',
      error: '',
      completedAt: ZERO_TIME,
      preCompressionSizeBytes: 0,
    };
    let settle = () => {};
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.#running = { operation, done, settle };
    return operation;
  }

  /** Frees the slot of an operation that failed before it started (its create call threw). */
  #release(): void {
    this.#running?.settle();
    this.#running = undefined;
  }

  /**
   * Cancels the running operation: CANCELLING at once (even while its create call is still in
   * flight), then waits until its outcome is recorded.
   */
  async #cancel(running: Running, reason: Error): Promise<void> {
    if (!FINISHED.has(running.operation.status)) running.operation.status = 'CANCELLING';
    running.operation.abort.abort(reason);
    await running.done;
  }

  /** Moves a running operation to `status`, unless it was canceled or stopped meanwhile. */
  #advance(operation: Operation, status: BackupStatus): void {
    operation.abort.signal.throwIfAborted();
    operation.status = status;
  }

  /**
   * Runs `work` in the background, then settles the outcome (SUCCESS; CANCELED when a user canceled
   * it; FAILED with the reason otherwise, including a node shutdown) and `record`s it in the provider.
   * Status queries see the outcome only once it is recorded and the next operation may start, so a
   * client that saw SUCCESS can start another at once. If the write fails, memory still answers.
   */
  #start(operation: Operation, work: () => Promise<void>, record: (outcome: Operation) => Promise<void>): void {
    const { logger } = this.#options;
    logger.info(
      { id: operation.id, backend: operation.module, classes: operation.classes },
      `${operation.kind} started`,
    );
    const running = this.#running as Running;
    void (async () => {
      const outcome = await (async () => {
        operation.abort.signal.throwIfAborted(); // canceled while its create call was in flight
        await work();
      })().then(
        () => ({ status: 'SUCCESS' as const, error: '' }),
        (error: unknown) => {
          const { aborted, reason } = operation.abort.signal;
          return {
            status: aborted && !(reason instanceof NodeStopping) ? ('CANCELED' as const) : ('FAILED' as const),
            error: aborted ? (reason as Error).message : (error as Error).message,
          };
        },
      );
      const settled: Operation = { ...operation, ...outcome, completedAt: new Date().toISOString() };
      try {
        await record(settled);
      } catch (error) {
        logger.error(
          { id: operation.id, err: error },
          `could not record the outcome of ${operation.kind} ${operation.id}`,
        );
      }
      clearJournal(this.#options.dataPath);
      Object.assign(operation, outcome, { completedAt: settled.completedAt });
      this.#finished.set(`${operation.kind}:${operation.module}:${operation.id}`, operation);
      this.#running = undefined;
      running.settle();
      logger.info(
        { id: operation.id, backend: operation.module, status: operation.status, error: operation.error || undefined },
        `${operation.kind} ${operation.status}`,
      );
    })();
  }

  async #backup(operation: Operation, backend: BackupBackend, concurrency: number): Promise<void> {
    const descriptor = await runBackup({
      id: operation.id,
      backend,
      scope: operation.scope,
      classes: operation.classes,
      compression: operation.compression,
      concurrency,
      chunkTargetBytes: this.#options.chunkTargetBytes,
      nodeName: this.#options.nodeName,
      serverVersion: this.#options.serverVersion,
      startedAt: operation.startedAt,
      db: this.#options.db,
      dataPath: this.#options.dataPath,
      signal: operation.abort.signal,
      progress: operation.progress,
      onTransferring: async () => {
        this.#advance(operation, 'TRANSFERRING');
        operation.preCompressionSizeBytes = operation.progress.snapshot().totalBytes;
        await this.#writeGlobal(backend, operation);
      },
      onTransferred: async () => {
        this.#advance(operation, 'TRANSFERRED');
        await this.#writeGlobal(backend, operation);
      },
    });
    operation.preCompressionSizeBytes = descriptor.preCompressionSizeBytes;
  }

  async #restore(
    operation: Operation,
    backend: BackupBackend,
    descriptor: NodeDescriptor,
    backupNode: string,
    classes: NodeDescriptor['classes'],
    concurrency: number,
  ): Promise<void> {
    this.#advance(operation, 'TRANSFERRING');
    await this.#writeRestore(backend, operation);
    await runRestore({
      id: operation.id,
      backend,
      scope: operation.scope,
      descriptor,
      backupNode,
      classes,
      nodeName: this.#options.nodeName,
      concurrency,
      db: this.#options.db,
      dataPath: this.#options.dataPath,
      signal: operation.abort.signal,
      progress: operation.progress,
      onFinalizing: async () => {
        this.#advance(operation, 'FINALIZING');
        operation.preCompressionSizeBytes = operation.progress.snapshot().totalBytes;
        await this.#writeRestore(backend, operation);
      },
    });
  }

  #find(kind: Operation['kind'], id: string, module: string, scope: BackendScope): Operation | undefined {
    const running = this.#running?.operation;
    if (running?.kind === kind && running.id === id && running.module === module && sameScope(running.scope, scope))
      return running;
    const finished = this.#finished.get(`${kind}:${module}:${id}`);
    return finished !== undefined && sameScope(finished.scope, scope) ? finished : undefined;
  }

  #statusOf(operation: Operation, backendName: string): OperationStatus {
    return {
      id: operation.id,
      backend: backendName,
      path: operation.home,
      status: operation.status,
      ...(operation.error === '' ? {} : { error: operation.error }),
      startedAt: operation.startedAt,
      completedAt: operation.completedAt,
      size: gibibytes(operation.preCompressionSizeBytes),
      ...(FINISHED.has(operation.status) ? {} : { progress: operation.progress.snapshot() }),
    };
  }

  #writeGlobal(backend: BackupBackend, operation: Operation): Promise<void> {
    const descriptor: GlobalDescriptor = {
      id: operation.id,
      startedAt: operation.startedAt,
      completedAt: operation.completedAt,
      status: operation.status,
      error: operation.error,
      version: BACKUP_FORMAT_VERSION,
      serverVersion: this.#options.serverVersion,
      leader: this.#options.nodeName,
      compressionType: compressionTypeOf(operation.compression),
      preCompressionSizeBytes: operation.preCompressionSizeBytes,
      node_mapping: null,
      nodes: {
        [this.#options.nodeName]: {
          classes: operation.classes,
          status: operation.status,
          error: operation.error,
          preCompressionSizeBytes: operation.preCompressionSizeBytes,
        },
      },
    };
    return writeJson(backend, backupKeys.global(operation.id), descriptor, operation.scope);
  }

  #writeRestore(backend: BackupBackend, operation: Operation): Promise<void> {
    const descriptor: RestoreDescriptor = {
      id: operation.id,
      startedAt: operation.startedAt,
      completedAt: operation.completedAt,
      status: operation.status,
      error: operation.error,
      node: this.#options.nodeName,
      classes: operation.classes,
      preCompressionSizeBytes: operation.preCompressionSizeBytes,
    };
    return writeJson(backend, backupKeys.restore(operation.id), descriptor, operation.scope);
  }

  #failed<T extends { status: BackupStatus; error: string; completedAt: string }>(descriptor: T, reason: string): T {
    return { ...descriptor, status: 'FAILED', error: reason, completedAt: new Date().toISOString() };
  }

  /**
   * Deletes what the `nodes` of backup `id` wrote, as its global descriptor names them: each node's
   * descriptor and the chunks of its classes, by their keys in the backup's layout. Never "everything under the prefix": a backup
   * id is a directory name that may hold objects (or, for a filesystem, files) it did not write.
   */
  async #deleteBackupObjects(
    backend: BackupBackend,
    id: string,
    nodes: GlobalDescriptor['nodes'],
    scope: BackendScope,
  ): Promise<void> {
    const keys: string[] = [];
    for (const [node, { classes }] of Object.entries(nodes)) {
      keys.push(backupKeys.node(id, node));
      for (const className of classes) {
        const prefix = backupKeys.chunks(id, node, className);
        for await (const object of backend.list(prefix, { scope })) {
          if (CHUNK_NUMBER.test(object.key.slice(prefix.length))) keys.push(object.key);
        }
      }
    }
    await runPool(keys, DELETE_CONCURRENCY, new AbortController().signal, (key) => backend.delete(key, { scope }));
  }
}
