import { statfs } from 'node:fs/promises';
import type { Database } from '../db/index.js';
import {
  BackupCorruptError,
  BackupInProgressError,
  BackupVersionError,
  RestoreConflictError,
  RestoreFinalizingError,
  RestoreSpaceError,
} from '../errors.js';
import type { ModuleRegistry } from '../modules/registry.js';
import type { BackupBackend } from '../provider/backend.js';
import { runBackup } from './backupper.js';
import { selectClasses } from './class-selection.js';
import {
  BACKUP_FORMAT_VERSION,
  type ClassDescriptor,
  formatMajor,
  type NodeDescriptor,
  shardBytes,
} from './descriptors.js';
import { EventLog } from './event-log.js';
import { BackupHome } from './home.js';
import { operationKey } from './operation-store.js';
import type {
  OperationRef,
  Participant,
  ParticipantEvent,
  ParticipantPhase,
  ParticipantStatus,
  PrepareBackup,
  Prepared,
  PrepareRestore,
} from './participant.js';
import { ProgressCounter } from './progress.js';
import { readNodeDescriptor } from './read-descriptors.js';
import { runRestore } from './restorer.js';

/**
 * This node's part of an operation, in the coordinator's process: snapshots, packs and uploads its
 * shards and writes its node descriptor (backupper.ts); downloads, verifies, stages and attaches them
 * (restorer.ts). See participant.ts for the contract.
 */

export interface LocalParticipantOptions {
  readonly db: Database;
  readonly modules: ModuleRegistry;
  readonly nodeName: string;
  readonly dataPath: string;
  readonly serverVersion: string;
  /** Files are grouped into chunks of about this size (BACKUP_CHUNK_TARGET_SIZE). */
  readonly chunkTargetBytes: number;
  /**
   * A cluster's participant: a restore ends with its shards held in place (db.holdRestored) rather than
   * attached, and its coordinator creates the classes in the cluster's schema, which opens them; an
   * abort after such a restore succeeded releases what it holds (the coordinator could not finish).
   */
  readonly holdRestores?: boolean;
}

interface Job {
  readonly request: PrepareBackup | PrepareRestore;
  readonly backend: BackupBackend;
  readonly progress: ProgressCounter;
  readonly abort: AbortController;
  readonly events: EventLog<ParticipantEvent>;
  /** A restore's node descriptor and the classes of it to restore. */
  readonly restore?: { readonly descriptor: NodeDescriptor; readonly classes: readonly ClassDescriptor[] };
  phase: ParticipantPhase | 'DONE';
  committed: boolean;
  outcome?: Extract<ParticipantEvent, { type: 'done' }>['outcome'];
}

/** Finished operations kept for a late subscriber to their events. */
const KEPT_FINISHED = 16;

/**
 * How long a prepared operation waits for its commit before it is dropped: a coordinator that died
 * between the two must not keep the operation's key taken here forever.
 */
export const PREPARED_TTL_MS = 60_000;

export class LocalParticipant implements Participant {
  readonly node: string;
  readonly #options: LocalParticipantOptions;
  readonly #jobs = new Map<string, Job>();
  readonly #finished = new Map<string, Job>();

  constructor(options: LocalParticipantOptions) {
    this.#options = options;
    this.node = options.nodeName;
  }

  async prepare(request: PrepareBackup | PrepareRestore): Promise<Prepared> {
    const key = operationKey(request);
    if (this.#jobs.has(key)) throw new BackupInProgressError(request.kind, request.id);
    const backend = this.#options.modules.backend(request.backend);
    const job = {
      request,
      backend,
      progress: new ProgressCounter(),
      abort: new AbortController(),
      events: new EventLog<ParticipantEvent>(),
      phase: 'STARTED' as const,
      committed: false,
    };
    if (request.kind === 'backup') {
      this.#hold(key, job);
      return { classes: request.classes };
    }
    const restore = await this.#prepareRestore(request, backend);
    if (this.#jobs.has(key)) throw new BackupInProgressError(request.kind, request.id);
    this.#hold(key, { ...job, restore });
    return {
      classes: restore.classes.map((c) => c.name),
      attaches: restore.classes.map((c) => ({ class: c.name, shards: c.shards.map((shard) => shard.name) })),
    };
  }

  /** Starts the prepared operation; one committed already (a coordinator that adopted it commits again) goes on. */
  async commit(operation: OperationRef): Promise<void> {
    const key = operationKey(operation);
    const job = this.#jobs.get(key);
    if (job === undefined) {
      if (this.#finished.has(key)) return;
      throw new TypeError(`commit: ${operation.kind} ${operation.id} is not prepared`);
    }
    if (job.committed) return;
    job.committed = true;
    void this.#run(job);
  }

  events(operation: OperationRef): AsyncIterable<ParticipantEvent> {
    const job = this.#job(operation);
    if (job === undefined) throw new TypeError(`events: no ${operation.kind} ${operation.id} on ${this.node}`);
    return job.events;
  }

  async status(operation: OperationRef): Promise<ParticipantStatus | undefined> {
    const job = this.#job(operation);
    return job === undefined ? undefined : { phase: job.phase, progress: job.progress.snapshot() };
  }

  async abort(operation: OperationRef, reason: string): Promise<void> {
    const key = operationKey(operation);
    const job = this.#jobs.get(key);
    if (job === undefined) {
      const done = this.#finished.get(key);
      // Restored and held, but the coordinator could not create the classes: what is held goes.
      if (done?.restore !== undefined && done.outcome === 'SUCCESS' && this.#options.holdRestores === true) {
        await this.#options.db.releaseHeld(done.restore.classes.map((c) => c.name));
      }
      return;
    }
    if (!job.committed) {
      this.#jobs.delete(key);
      return;
    }
    if (job.phase === 'FINALIZING') throw new RestoreFinalizingError(operation.id);
    job.abort.abort(new Error(reason));
  }

  /** Holds a prepared job until its commit, for at most {@link PREPARED_TTL_MS}. */
  #hold(key: string, job: Job): void {
    this.#jobs.set(key, job);
    setTimeout(() => {
      if (this.#jobs.get(key) === job && !job.committed) this.#jobs.delete(key);
    }, PREPARED_TTL_MS).unref();
  }

  #job(operation: OperationRef): Job | undefined {
    const key = operationKey(operation);
    return this.#jobs.get(key) ?? this.#finished.get(key);
  }

  /** Reads this node's descriptor of the backup and checks what restoring it here needs. */
  async #prepareRestore(request: PrepareRestore, backend: BackupBackend): Promise<NonNullable<Job['restore']>> {
    const home = new BackupHome(request.id);
    const descriptor = await readNodeDescriptor(backend, request.id, request.backupNode, request.scope);
    if (descriptor === undefined) {
      throw new BackupCorruptError(home.node(request.backupNode).descriptorKey, 'the node descriptor is missing');
    }
    // On a cluster, each node wrote its own descriptor: one may be newer than backup_config.json.
    if (formatMajor(descriptor.version) > formatMajor(BACKUP_FORMAT_VERSION)) {
      throw new BackupVersionError(descriptor.version, BACKUP_FORMAT_VERSION);
    }
    // The coordinator names the classes backup_config.json lists for this node: each must be here.
    const held = descriptor.classes.map((c) => c.name);
    const absent = request.include?.find((name) => !held.includes(name));
    if (absent !== undefined) {
      throw new BackupCorruptError(
        home.node(request.backupNode).descriptorKey,
        `it does not hold class ${absent}, which backup_config.json lists for node ${request.backupNode}`,
      );
    }
    const selected = selectClasses(held, request, 'restore');
    const conflicts = selected.filter((name) => this.#options.db.getClass(name) !== undefined);
    if (conflicts.length > 0) throw new RestoreConflictError(conflicts);
    const classes = descriptor.classes.filter((c) => selected.includes(c.name));
    await this.#checkSpace(classes);
    return { descriptor, classes };
  }

  /**
   * Refuses a restore whose files would not fit on the data path's filesystem: up front rather than
   * with a full disk, and so that the sizes a hostile descriptor declares cannot fill it.
   */
  async #checkSpace(classes: readonly ClassDescriptor[]): Promise<void> {
    const needed = classes.reduce((sum, cls) => sum + shardBytes(cls.shards), 0);
    const { bavail, bsize } = await statfs(this.#options.dataPath);
    const free = bavail * bsize;
    if (needed > free) throw new RestoreSpaceError(needed, free);
  }

  /** Runs a committed job to its end, then reports `done`; never rejects. */
  async #run(job: Job): Promise<void> {
    const { signal } = job.abort;
    const onPhase = (phase: ParticipantPhase) => {
      signal.throwIfAborted();
      job.phase = phase;
      job.events.push({ type: 'phase', phase, bytes: job.progress.snapshot().totalBytes });
    };
    const done = await this.#work(job, onPhase).then(
      (bytes) => ({ outcome: 'SUCCESS' as const, error: '', bytes }),
      (error: unknown) => ({
        outcome: signal.aborted ? ('ABORTED' as const) : ('FAILED' as const),
        error: signal.aborted ? (signal.reason as Error).message : (error as Error).message,
        bytes: job.progress.snapshot().totalBytes,
      }),
    );
    const key = operationKey(job.request);
    job.phase = 'DONE';
    job.outcome = done.outcome;
    this.#jobs.delete(key);
    this.#finished.set(key, job);
    for (const old of this.#finished.keys()) {
      if (this.#finished.size <= KEPT_FINISHED) break;
      this.#finished.delete(old);
    }
    job.events.push({ type: 'done', ...done }, true);
  }

  /** The job's work; resolves with the bytes of the files it moved. */
  async #work(job: Job, onPhase: (phase: ParticipantPhase) => void): Promise<number> {
    const { request, backend, progress } = job;
    const { signal } = job.abort;
    const { db, dataPath } = this.#options;
    const home = new BackupHome(request.id);
    if (request.kind === 'backup') {
      const descriptor = await runBackup({
        id: request.id,
        home: home.node(this.node),
        backend,
        scope: request.scope,
        classes: request.classes,
        compression: request.compression,
        concurrency: request.concurrency,
        chunkTargetBytes: this.#options.chunkTargetBytes,
        serverVersion: this.#options.serverVersion,
        startedAt: request.startedAt,
        db,
        dataPath,
        signal,
        progress,
        onPhase,
      });
      return descriptor.preCompressionSizeBytes;
    }
    const restore = job.restore as NonNullable<Job['restore']>;
    onPhase('TRANSFERRING');
    await runRestore({
      id: request.id,
      home,
      backend,
      scope: request.scope,
      descriptor: restore.descriptor,
      backupNode: request.backupNode,
      classes: restore.classes,
      nodeName: this.node,
      concurrency: request.concurrency,
      dataPath,
      signal,
      progress,
      onPhase,
      attach: (staged) => (this.#options.holdRestores === true ? db.holdRestored(staged) : db.attachClasses(staged)),
    });
    return progress.snapshot().totalBytes;
  }
}
