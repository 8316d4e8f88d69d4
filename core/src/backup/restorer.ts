import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Database, StagedClass } from '../db/index.js';
import { BackupCorruptError, NotFoundError, StrataError } from '../errors.js';
import type { BackendScope, BackupBackend } from '../provider/backend.js';
import type { ChunkDescriptor, ClassDescriptor, FileDescriptor, NodeDescriptor } from './descriptors.js';
import { runPool } from './pool.js';
import type { ProgressCounter } from './progress.js';
import { createStaging, removeStaging } from './staging.js';
import { type EntrySink, extractTar } from './tar.js';

/** Everything a restore run needs. */
export interface RestoreRun {
  readonly id: string;
  readonly backend: BackupBackend;
  readonly scope: BackendScope;
  readonly descriptor: NodeDescriptor;
  /** The node the descriptor belongs to (the key it was read from). */
  readonly backupNode: string;
  readonly classes: readonly ClassDescriptor[];
  /** The node the restored shards belong to. */
  readonly nodeName: string;
  readonly concurrency: number;
  readonly db: Database;
  readonly dataPath: string;
  readonly signal: AbortSignal;
  readonly progress: ProgressCounter;
  /** Called once every file is downloaded and verified, before the classes are attached. */
  onFinalizing(): Promise<void>;
}

/** Writes an entry to its staged file, checking its size and SHA-256 against the descriptor. */
async function fileSink(
  path: string,
  expected: FileDescriptor,
  chunkKey: string,
  progress: ProgressCounter,
): Promise<EntrySink> {
  await mkdir(dirname(path), { recursive: true });
  const handle: FileHandle = await open(path, 'w');
  const hash = createHash('sha256');
  let written = 0;
  return {
    async write(chunk) {
      hash.update(chunk);
      written += chunk.length;
      progress.add(chunk.length);
      for (let offset = 0; offset < chunk.length; ) offset += (await handle.write(chunk, offset)).bytesWritten;
    },
    async abort() {
      await handle.close();
    },
    async end() {
      await handle.sync(); // a restore that reports SUCCESS survives a power loss
      await handle.close();
      const digest = hash.digest('hex');
      if (written !== expected.size || digest !== expected.sha256) {
        throw new BackupCorruptError(
          chunkKey,
          `${expected.path} does not match its checksum (sha256 ${digest}, expected ${expected.sha256})`,
        );
      }
    },
  };
}

/** Downloads one chunk, extracts it into staging and verifies the chunk's and each file's checksum. */
async function restoreChunk(
  run: RestoreRun,
  chunk: ChunkDescriptor,
  files: Map<string, FileDescriptor>,
  extracted: Set<string>,
  staging: string,
): Promise<void> {
  const key = `${run.id}/${chunk.key}`;
  const source = await run.backend.read(key, { scope: run.scope, signal: run.signal }).catch((error: unknown) => {
    throw NotFoundError.is(error)
      ? new BackupCorruptError(key, `the chunk is missing: ${(error as Error).message}`)
      : error;
  });
  const hash = createHash('sha256');
  let size = 0;
  const counted = Readable.from(
    (async function* () {
      for await (const piece of source) {
        hash.update(piece as Buffer);
        size += (piece as Buffer).length;
        yield piece as Buffer;
      }
    })(),
  );
  const plain = run.descriptor.compressionType === 'gzip' ? counted.pipe(createGunzip()) : counted;
  if (plain !== counted) counted.on('error', (error) => plain.destroy(error));
  try {
    await extractTar(
      plain,
      async (name, entrySize) => {
        const expected = files.get(name);
        if (expected === undefined)
          throw new BackupCorruptError(key, `holds ${name}, which the backup descriptor does not list`);
        if (expected.size !== entrySize)
          throw new BackupCorruptError(key, `${name} is ${entrySize} bytes, the descriptor says ${expected.size}`);
        extracted.add(name);
        return fileSink(join(staging, ...name.split('/')), expected, key, run.progress);
      },
      key,
    );
  } catch (error) {
    if (error instanceof StrataError || run.signal.aborted) throw error;
    // A truncated or damaged gzip stream surfaces as a zlib error: name the object it came from.
    throw new BackupCorruptError(key, (error as Error).message).withCause(error);
  } finally {
    counted.destroy();
    source.destroy();
  }
  if (size !== chunk.size) throw new BackupCorruptError(key, `the chunk is ${size} bytes, expected ${chunk.size}`);
  const digest = hash.digest('hex');
  if (digest !== chunk.sha256) {
    throw new BackupCorruptError(
      key,
      `the chunk does not match its checksum (sha256 ${digest}, expected ${chunk.sha256})`,
    );
  }
}

/**
 * Restores classes: downloads every chunk of theirs (several at a time), verifies each chunk's and
 * each file's SHA-256 while extracting into staging, and only then attaches the classes, all or none.
 * A failed or canceled restore removes its staging directory and leaves no class behind.
 */
export async function runRestore(run: RestoreRun): Promise<void> {
  const staging = await createStaging(run.dataPath, 'restore', run.id);
  try {
    const files = new Map<string, FileDescriptor>();
    for (const cls of run.classes)
      for (const shard of cls.shards) for (const file of shard.files) files.set(file.path, file);
    run.progress.setTotal([...files.values()].reduce((sum, file) => sum + file.size, 0));
    const extracted = new Set<string>();
    const chunks = run.classes.flatMap((cls) => Object.values(cls.chunks));
    await runPool(chunks, run.concurrency, run.signal, (chunk) => restoreChunk(run, chunk, files, extracted, staging));
    const missing = [...files.keys()].filter((path) => !extracted.has(path));
    if (missing.length > 0) throw new BackupCorruptError(`${run.id}/${run.backupNode}`, `no chunk holds ${missing[0]}`);

    await run.onFinalizing();
    const staged: StagedClass[] = [];
    for (const cls of run.classes) {
      const shards = [];
      for (const shard of cls.shards) {
        const directory = join(staging, cls.name.toLowerCase(), shard.name);
        await mkdir(directory, { recursive: true });
        shards.push({ name: shard.name, node: run.nodeName, directory });
      }
      staged.push({ definition: cls.schema, shards });
    }
    await run.db.attachClasses(staged);
  } finally {
    await removeStaging(staging);
  }
}
