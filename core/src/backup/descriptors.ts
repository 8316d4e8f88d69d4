import { Readable } from 'node:stream';
import type { ClassDefinition } from '../db/index.js';
import { BackupCorruptError, hasCode, NotFoundError } from '../errors.js';
import type { BackendScope, BackupBackend } from '../provider/backend.js';
import { parseJson } from '../sliced-json.js';

/**
 * The JSON documents a backup leaves in its provider, with Weaviate's names (home.ts places them):
 * GlobalDescriptor (status, nodes, sizes: Weaviate's DistributedBackupDescriptor), NodeDescriptor
 * (classes, shards, files, chunks, checksums) and RestoreDescriptor (the status of the latest restore
 * from a backup); and how they are read and written. See docs/backup-format.md.
 */

/** Weaviate's status values, one L in CANCELED. */
export type BackupStatus =
  | 'STARTED'
  | 'TRANSFERRING'
  | 'TRANSFERRED'
  | 'FINALIZING'
  | 'SUCCESS'
  | 'FAILED'
  | 'CANCELLING'
  | 'CANCELED';

export const FINISHED: ReadonlySet<BackupStatus> = new Set(['SUCCESS', 'FAILED', 'CANCELED']);

/** The backup format Strata writes; restore refuses a higher major version. Append-only. */
export const BACKUP_FORMAT_VERSION = '2.0';

/** The major version of a `<major>.<minor>` format version. */
export const formatMajor = (version: string): number => Number.parseInt(version, 10);

/** Weaviate's zero time, sent for "not yet". */
export const ZERO_TIME = '0001-01-01T00:00:00.000Z';

export type CompressionType = 'gzip' | 'zstd' | 'none';

/** A file of a shard: where it lives relative to the data path, and how long it is. */
export interface FileDescriptor {
  readonly path: string;
  readonly size: number;
  /** The file's SHA-256: format 1 backups only. From format 2 the chunk's SHA-256 covers its files. */
  readonly sha256?: string;
}

export interface ShardDescriptor {
  readonly name: string;
  readonly node: string;
  readonly files: readonly FileDescriptor[];
}

/** A chunk object: its key under the backup, stored size and checksum, and the shards it holds files of. */
export interface ChunkDescriptor {
  readonly key: string;
  readonly size: number;
  readonly sha256: string;
  readonly shards: readonly string[];
}

export interface ClassDescriptor {
  readonly name: string;
  /** The class as `GET /v1/schema/{class}` returned it when the backup was taken. */
  readonly schema: ClassDefinition;
  readonly shards: readonly ShardDescriptor[];
  /** Chunk number (as a string, as in Weaviate) to chunk. */
  readonly chunks: Readonly<Record<string, ChunkDescriptor>>;
  readonly preCompressionSizeBytes: number;
}

/** What every descriptor records of its operation: the fields a status reply is made of. */
export interface OperationRecord {
  readonly id: string;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly status: BackupStatus;
  readonly error: string;
  readonly preCompressionSizeBytes: number;
}

export interface NodeDescriptor extends OperationRecord {
  readonly version: string;
  readonly serverVersion: string;
  readonly compressionType: CompressionType;
  readonly classes: readonly ClassDescriptor[];
}

export interface GlobalDescriptor extends OperationRecord {
  readonly version: string;
  readonly serverVersion: string;
  readonly leader: string;
  readonly compressionType: CompressionType;
  readonly node_mapping: Readonly<Record<string, string>> | null;
  readonly nodes: Readonly<
    Record<string, { classes: readonly string[]; status: BackupStatus; error: string; preCompressionSizeBytes: number }>
  >;
}

export interface RestoreDescriptor extends OperationRecord {
  readonly node: string;
  readonly classes: readonly string[];
}

/** What a backup id may be: Weaviate's characters. */
export const BACKUP_ID = /^[a-z0-9_-]+$/;
/** Characters of a backup id: it is a directory name and a key segment, so it must stay short. */
export const MAX_BACKUP_ID_LENGTH = 128;

/** True when `id` is a backup id Strata accepts. */
export function isBackupId(id: string): boolean {
  return id.length <= MAX_BACKUP_ID_LENGTH && BACKUP_ID.test(id);
}

/** Writes `value` as pretty JSON under `key`. */
export async function writeJson(
  backend: BackupBackend,
  key: string,
  value: unknown,
  scope: BackendScope,
): Promise<void> {
  await backend.write(key, Readable.from([Buffer.from(`${JSON.stringify(value, null, 2)}\n`)]), { scope });
}

/** A descriptor larger than this is not one Strata wrote (100,000 files take about 20 MiB). */
export const MAX_DESCRIPTOR_BYTES = 32 * 1024 * 1024;

/**
 * The whole (small) object under `key`, or undefined when there is none. Reading stops at the first
 * byte past `limit`: an object that claims to be a descriptor cannot make the node buffer gigabytes.
 */
export async function readObject(
  backend: BackupBackend,
  key: string,
  scope: BackendScope,
  limit = MAX_DESCRIPTOR_BYTES,
): Promise<Buffer | undefined> {
  let stream: Readable;
  try {
    stream = await backend.read(key, { scope });
  } catch (error) {
    if (hasCode(error, NotFoundError.code)) return undefined;
    throw error;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new BackupCorruptError(key, `it is larger than the limit of ${limit} bytes`);
      chunks.push(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

/** Levels of arrays and objects a descriptor may nest: a schema's 30 levels of nested properties take 60. */
const MAX_DESCRIPTOR_DEPTH = 128;

/**
 * The JSON document `bytes` read from `key`, parsed in slices (a descriptor may be megabytes); one
 * that does not parse, sets `__proto__` or nests too deep is corrupt.
 */
export function parseDescriptor(key: string, bytes: Buffer): Promise<unknown> {
  return parseJson(bytes, {
    maxDepth: MAX_DESCRIPTOR_DEPTH,
    invalid: (reason) => new BackupCorruptError(key, reason),
    tooDeep: (limit, at) =>
      new BackupCorruptError(key, `arrays and objects nest deeper than ${limit} levels (at byte ${at})`),
  });
}

/**
 * The descriptor under `key`, checked by `validate`, or undefined when there is none. A document that
 * does not parse or fails a check is corrupt (BackupCorruptError, naming the field).
 */
export async function readDescriptor<T>(
  backend: BackupBackend,
  key: string,
  scope: BackendScope,
  validate: (key: string, value: unknown) => T | Promise<T>,
): Promise<T | undefined> {
  const bytes = await readObject(backend, key, scope);
  return bytes === undefined ? undefined : validate(key, await parseDescriptor(key, bytes));
}

/** The bytes of the files of `shards` (as a snapshot or a descriptor lists them). */
export function shardBytes(
  shards: ReadonlyArray<{ readonly files: ReadonlyArray<{ readonly size: number }> }>,
): number {
  return shards.reduce((sum, shard) => sum + shard.files.reduce((bytes, file) => bytes + file.size, 0), 0);
}

/** Weaviate reports sizes in GiB, as a float. */
export function gibibytes(bytes: number): number {
  return bytes / 1024 ** 3;
}
