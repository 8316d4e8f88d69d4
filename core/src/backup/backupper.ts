import type { Database } from '../db/index.js';
import type { BackendScope, BackupBackend } from '../provider/backend.js';
import { type CompressionLevel, compressionTypeOf } from './chunk-codec.js';
import { type PlannedFile, planChunks } from './chunk-plan.js';
import { ChunkWorkers } from './chunk-workers.js';
import {
  BACKUP_FORMAT_VERSION,
  type ChunkDescriptor,
  type ClassDescriptor,
  type FileDescriptor,
  type NodeDescriptor,
  shardBytes,
  writeJson,
} from './descriptors.js';
import type { NodeHome } from './home.js';
import type { ParticipantPhase } from './participant.js';
import { runPool } from './pool.js';
import type { ProgressCounter } from './progress.js';
import { createStaging, removeStaging } from './staging.js';

/** Everything a backup run needs. */
export interface BackupRun {
  readonly id: string;
  /** Where this node's part of the backup goes. */
  readonly home: NodeHome;
  readonly backend: BackupBackend;
  readonly scope: BackendScope;
  readonly classes: readonly string[];
  readonly compression: CompressionLevel;
  /** Chunks packed at a time (chunk workers); twice as many are uploaded at a time. */
  readonly concurrency: number;
  readonly chunkTargetBytes: number;
  readonly serverVersion: string;
  readonly startedAt: string;
  readonly db: Database;
  readonly dataPath: string;
  readonly signal: AbortSignal;
  readonly progress: ProgressCounter;
  /** Told as the run moves on: TRANSFERRING once snapshotted, TRANSFERRED once every chunk is uploaded. */
  onPhase(phase: ParticipantPhase): void;
}

/**
 * Chunks uploaded at a time per chunk worker. A chunk holds its worker only while it is packed: the
 * provider's durable finish (a file's fsync, rename and directory fsync; a server completing an
 * upload) overlaps the next chunk's packing instead of leaving the worker idle.
 */
const UPLOADS_PER_WORKER = 2;

/**
 * Streams one chunk to the backend, packed (tar, gzip or zstd, SHA-256 of the chunk) by a chunk
 * worker once one is free. Resolves with the chunk's descriptor once the backend holds all of it.
 */
async function uploadChunk(
  run: BackupRun,
  workers: ChunkWorkers,
  key: string,
  files: readonly PlannedFile[],
): Promise<ChunkDescriptor> {
  const { body, packed } = await workers.pack(
    files.map(({ path, source, size }) => ({ path, source, size })),
    run.compression,
    run.signal,
    (bytes) => run.progress.add(bytes),
  );
  try {
    // Both settle before either error is thrown: when the backend gives up, the packer only sees its
    // output closed ("aborted"), and it is the backend's reason that belongs in the status.
    const [written, packing] = await Promise.allSettled([
      run.backend.write(key, body, { scope: run.scope, signal: run.signal }),
      packed,
    ]);
    if (written.status === 'rejected') throw written.reason;
    if (packing.status === 'rejected') throw packing.reason;
    const chunk = packing.value;
    return {
      key: run.home.relative(key),
      size: chunk.size,
      sha256: chunk.sha256,
      shards: [...new Set(files.map((f) => f.shard))],
    };
  } finally {
    body.destroy(); // stops the worker if the backend gave up early
  }
}

/**
 * Takes a backup: snapshots the classes into staging (writes never stop), then uploads them as
 * chunks, several at a time, and writes the node descriptor. Resolves with the descriptor; the
 * caller records the outcome. The staging directory is removed whatever happens. On failure or
 * abort, chunks already uploaded are deleted.
 */
export async function runBackup(run: BackupRun): Promise<NodeDescriptor> {
  const staging = await createStaging(run.dataPath, 'backup', run.id);
  const uploaded: string[] = [];
  const workers = ChunkWorkers.start(run.concurrency);
  try {
    const snapshots = await run.db.snapshotClasses(run.classes, staging);
    run.signal.throwIfAborted();
    const total = snapshots.reduce((sum, snapshot) => sum + shardBytes(snapshot.shards), 0);
    run.progress.setTotal(total);
    run.onPhase('TRANSFERRING');

    const tasks = snapshots.flatMap((snapshot) => {
      const files = snapshot.shards.flatMap((shard) => shard.files.map((file) => ({ ...file, shard: shard.name })));
      return planChunks(files, run.chunkTargetBytes).map((chunk, i) => ({
        className: snapshot.definition.class,
        n: i + 1,
        files: chunk,
      }));
    });
    const chunks = new Map<string, Record<string, ChunkDescriptor>>();
    await runPool(tasks, run.concurrency * UPLOADS_PER_WORKER, run.signal, async (task) => {
      const key = run.home.chunkKey(task.className, task.n);
      uploaded.push(key);
      const chunk = await uploadChunk(run, workers, key, task.files);
      chunks.set(task.className, { ...chunks.get(task.className), [String(task.n)]: chunk });
    });
    run.onPhase('TRANSFERRED');

    const classes: ClassDescriptor[] = snapshots.map((snapshot) => {
      const shards = snapshot.shards.map((shard) => ({
        name: shard.name,
        node: shard.node,
        files: shard.files.map((file): FileDescriptor => ({ path: file.path, size: file.size })),
      }));
      return {
        name: snapshot.definition.class,
        schema: snapshot.definition,
        shards,
        chunks: chunks.get(snapshot.definition.class) ?? {},
        preCompressionSizeBytes: shardBytes(shards),
      };
    });
    const descriptor: NodeDescriptor = {
      id: run.id,
      startedAt: run.startedAt,
      completedAt: new Date().toISOString(),
      status: 'SUCCESS',
      error: '',
      version: BACKUP_FORMAT_VERSION,
      serverVersion: run.serverVersion,
      compressionType: compressionTypeOf(run.compression),
      preCompressionSizeBytes: total,
      classes,
    };
    await writeJson(run.backend, run.home.descriptorKey, descriptor, run.scope);
    return descriptor;
  } catch (error) {
    await Promise.allSettled(uploaded.map((key) => run.backend.delete(key, { scope: run.scope })));
    throw error;
  } finally {
    await workers.close();
    await removeStaging(staging);
  }
}
