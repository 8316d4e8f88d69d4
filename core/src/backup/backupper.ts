import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGzip, constants as zlibConstants } from 'node:zlib';
import type { Database } from '../db/index.js';
import type { BackendScope, BackupBackend } from '../provider/backend.js';
import { type PlannedFile, planChunks } from './chunk-plan.js';
import {
  BACKUP_FORMAT_VERSION,
  backupKeys,
  type ChunkDescriptor,
  type ClassDescriptor,
  type CompressionType,
  type FileDescriptor,
  type NodeDescriptor,
  writeJson,
} from './descriptors.js';
import { runPool } from './pool.js';
import type { ProgressCounter } from './progress.js';
import { createStaging, removeStaging } from './staging.js';
import { type TarEntry, tarStream } from './tar.js';

/** Weaviate's compression levels Strata offers (the zstd ones need a zstd Strata does not ship). */
export type CompressionLevel = 'DefaultCompression' | 'BestSpeed' | 'BestCompression' | 'NoCompression';

const GZIP_LEVELS: Record<Exclude<CompressionLevel, 'NoCompression'>, number> = {
  DefaultCompression: zlibConstants.Z_DEFAULT_COMPRESSION,
  BestSpeed: zlibConstants.Z_BEST_SPEED,
  BestCompression: zlibConstants.Z_BEST_COMPRESSION,
};

export function compressionTypeOf(level: CompressionLevel): CompressionType {
  return level === 'NoCompression' ? 'none' : 'gzip';
}

/** Everything a backup run needs. */
export interface BackupRun {
  readonly id: string;
  readonly backend: BackupBackend;
  readonly scope: BackendScope;
  readonly classes: readonly string[];
  readonly compression: CompressionLevel;
  /** Chunks uploaded at a time. */
  readonly concurrency: number;
  readonly chunkTargetBytes: number;
  readonly nodeName: string;
  readonly serverVersion: string;
  readonly startedAt: string;
  readonly db: Database;
  readonly dataPath: string;
  readonly signal: AbortSignal;
  readonly progress: ProgressCounter;
  /** Called as the run moves from snapshot to transfer. */
  onTransferring(): Promise<void>;
  /** Called once every chunk is uploaded, before the node descriptor is written. */
  onTransferred(): Promise<void>;
}

/** A file's bytes as the tar stream reads them, hashed and counted on the way. */
function hashedContent(
  file: PlannedFile,
  hashes: Map<string, string>,
  progress: ProgressCounter,
): AsyncIterable<Buffer> {
  return (async function* () {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file.source, { highWaterMark: 256 * 1024 })) {
      hash.update(chunk as Buffer);
      progress.add((chunk as Buffer).length);
      yield chunk as Buffer;
    }
    hashes.set(file.path, hash.digest('hex'));
  })();
}

/**
 * Streams one chunk to the backend: tar of its files, gzip unless NoCompression, hashed and counted
 * as it goes. Memory stays bounded: every stage is a stream with a small buffer.
 */
async function uploadChunk(
  run: BackupRun,
  key: string,
  files: readonly PlannedFile[],
  hashes: Map<string, string>,
): Promise<ChunkDescriptor> {
  const entries: TarEntry[] = files.map((file) => ({
    name: file.path,
    size: file.size,
    mtime: statSync(file.source).mtime,
    content: hashedContent(file, hashes, run.progress),
  }));
  const tar = Readable.from(tarStream(entries));
  const compressed =
    run.compression === 'NoCompression' ? tar : tar.pipe(createGzip({ level: GZIP_LEVELS[run.compression] }));
  if (compressed !== tar) tar.on('error', (error) => compressed.destroy(error));
  const hash = createHash('sha256');
  let size = 0;
  const body = Readable.from(
    (async function* () {
      for await (const chunk of compressed) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    })(),
  );
  try {
    await run.backend.write(key, body, { scope: run.scope, signal: run.signal });
  } finally {
    tar.destroy();
    compressed.destroy();
  }
  return {
    key: key.slice(run.id.length + 1),
    size,
    sha256: hash.digest('hex'),
    shards: [...new Set(files.map((f) => f.shard))],
  };
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
  try {
    const snapshots = await run.db.snapshotClasses(run.classes, staging);
    run.signal.throwIfAborted();
    const total = snapshots.reduce(
      (sum, c) => sum + c.shards.reduce((s, sh) => s + sh.files.reduce((f, file) => f + file.size, 0), 0),
      0,
    );
    run.progress.setTotal(total);
    await run.onTransferring();

    const hashes = new Map<string, string>();
    const tasks = snapshots.flatMap((snapshot) => {
      const files = snapshot.shards.flatMap((shard) => shard.files.map((file) => ({ ...file, shard: shard.name })));
      return planChunks(files, run.chunkTargetBytes).map((chunk, i) => ({
        className: snapshot.definition.class,
        n: i + 1,
        files: chunk,
      }));
    });
    const chunks = new Map<string, Record<string, ChunkDescriptor>>();
    await runPool(tasks, run.concurrency, run.signal, async (task) => {
      const key = backupKeys.chunk(run.id, run.nodeName, task.className, task.n);
      uploaded.push(key);
      const chunk = await uploadChunk(run, key, task.files, hashes);
      chunks.set(task.className, { ...chunks.get(task.className), [String(task.n)]: chunk });
    });
    await run.onTransferred();

    const classes: ClassDescriptor[] = snapshots.map((snapshot) => {
      const shards = snapshot.shards.map((shard) => ({
        name: shard.name,
        node: shard.node,
        files: shard.files.map(
          (file): FileDescriptor => ({ path: file.path, size: file.size, sha256: hashes.get(file.path) as string }),
        ),
      }));
      return {
        name: snapshot.definition.class,
        schema: snapshot.definition,
        shards,
        chunks: chunks.get(snapshot.definition.class) ?? {},
        preCompressionSizeBytes: shards.reduce((s, shard) => s + shard.files.reduce((f, file) => f + file.size, 0), 0),
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
    await writeJson(run.backend, backupKeys.node(run.id, run.nodeName), descriptor, run.scope);
    return descriptor;
  } catch (error) {
    await Promise.allSettled(uploaded.map((key) => run.backend.delete(key, { scope: run.scope })));
    throw error;
  } finally {
    await removeStaging(staging);
  }
}
