import { mkdir } from 'node:fs/promises';
import { type StagedClass, shardDirectory } from '../db/index.js';
import { BackupCorruptError, NotFoundError } from '../errors.js';
import type { BackendScope, BackupBackend } from '../provider/backend.js';
import { chunkTooLong } from './chunk-codec.js';
import { ChunkWorkers } from './chunk-workers.js';
import {
  type ChunkDescriptor,
  type ClassDescriptor,
  type FileDescriptor,
  formatMajor,
  type NodeDescriptor,
  shardBytes,
} from './descriptors.js';
import type { BackupHome } from './home.js';
import type { ParticipantPhase } from './participant.js';
import { runPool } from './pool.js';
import type { ProgressCounter } from './progress.js';
import { createStaging, removeStaging, syncStaged } from './staging.js';

/** Everything a restore run needs. */
export interface RestoreRun {
  readonly id: string;
  readonly home: BackupHome;
  readonly backend: BackupBackend;
  readonly scope: BackendScope;
  readonly descriptor: NodeDescriptor;
  /** The node the descriptor belongs to (the key it was read from). */
  readonly backupNode: string;
  readonly classes: readonly ClassDescriptor[];
  /** The node the restored shards belong to. */
  readonly nodeName: string;
  readonly concurrency: number;
  readonly dataPath: string;
  readonly signal: AbortSignal;
  readonly progress: ProgressCounter;
  /** Told FINALIZING once every file is downloaded and verified, before the classes are attached. */
  onPhase(phase: ParticipantPhase): void;
  /** Attaches the staged classes (a single node's schema), or holds them for the cluster's (db.holdRestored). */
  attach(classes: readonly StagedClass[]): Promise<void>;
}

/** `source`, failing at the first byte past `limit` (the worker checks the exact size and hash). */
async function* atMost(
  source: AsyncIterable<Uint8Array>,
  limit: number,
  tooLong: () => Error,
): AsyncIterable<Uint8Array> {
  let size = 0;
  for await (const piece of source) {
    size += piece.length;
    if (size > limit) throw tooLong();
    yield piece;
  }
}

/** Downloads one chunk and has a chunk worker verify and extract it into staging. */
async function restoreChunk(
  run: RestoreRun,
  workers: ChunkWorkers,
  cls: ClassDescriptor,
  chunk: ChunkDescriptor,
  staging: string,
): Promise<readonly string[]> {
  const key = run.home.key(chunk.key);
  const source = await run.backend.read(key, { scope: run.scope, signal: run.signal }).catch((error: unknown) => {
    throw NotFoundError.is(error)
      ? new BackupCorruptError(key, `the chunk is missing: ${(error as Error).message}`)
      : error;
  });
  // Errors reach the worker through iteration; this keeps one raised while nobody iterates (the
  // job already failed or was aborted) from being an uncaught exception.
  source.on('error', () => {});

  const files: Record<string, FileDescriptor> = {};
  for (const shard of cls.shards) {
    if (chunk.shards.includes(shard.name)) for (const file of shard.files) files[file.path] = file;
  }
  const target = {
    key,
    size: chunk.size,
    compression: run.descriptor.compressionType,
    // Format 1 checked each file's SHA-256 instead; its chunk hashes went unchecked on restore.
    sha256: formatMajor(run.descriptor.version) >= 2 ? chunk.sha256 : undefined,
    files,
    staging,
  };
  try {
    return await workers.unpack(
      atMost(source, chunk.size, () => chunkTooLong(key, chunk.size)),
      target,
      run.signal,
      (bytes) => run.progress.add(bytes),
    );
  } finally {
    source.destroy();
  }
}

/**
 * Restores classes: downloads every chunk of theirs (several at a time), verifies each chunk's
 * SHA-256 (format 1: each file's) while extracting into staging, and only then attaches the classes,
 * all or none.
 * A failed or canceled restore removes its staging directory and leaves no class behind.
 */
export async function runRestore(run: RestoreRun): Promise<void> {
  const staging = await createStaging(run.dataPath, 'restore', run.id);
  const workers = ChunkWorkers.start(run.concurrency);
  const syncs: Promise<void>[] = [];
  try {
    const files = run.classes.flatMap((cls) => cls.shards.flatMap((shard) => shard.files));
    run.progress.setTotal(run.classes.reduce((sum, cls) => sum + shardBytes(cls.shards), 0));
    const extracted = new Set<string>();
    const chunks = run.classes.flatMap((cls) => Object.values(cls.chunks).map((chunk) => ({ cls, chunk })));
    await runPool(chunks, run.concurrency, run.signal, async ({ cls, chunk }) => {
      for (const path of await restoreChunk(run, workers, cls, chunk, staging)) {
        extracted.add(path);
        const sync = syncStaged(staging, path);
        sync.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
        syncs.push(sync);
      }
    }).finally(() => Promise.allSettled(syncs));
    // Nothing is attached before every file is durable; the syncs ran while later chunks streamed.
    await Promise.all(syncs);
    const missing = files.map((file) => file.path).filter((path) => !extracted.has(path));
    if (missing.length > 0) {
      throw new BackupCorruptError(run.home.node(run.backupNode).descriptorKey, `no chunk holds ${missing[0]}`);
    }

    run.onPhase('FINALIZING');
    const staged: StagedClass[] = [];
    for (const cls of run.classes) {
      const shards = [];
      for (const shard of cls.shards) {
        const directory = shardDirectory(staging, cls.name, shard.name);
        await mkdir(directory, { recursive: true });
        shards.push({ name: shard.name, node: run.nodeName, directory });
      }
      staged.push({ definition: cls.schema, shards });
    }
    await run.attach(staged);
  } finally {
    await workers.close();
    await removeStaging(staging);
  }
}
