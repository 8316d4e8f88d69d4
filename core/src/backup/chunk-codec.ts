import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, gzipSync, constants as zlibConstants } from 'node:zlib';
import { BackupCorruptError, quoted, StrataError } from '../errors.js';
import { isZstdLevel, type ZstdLevel, zstdDecompressed, zstdFrames } from './chunk-compression.js';
import type { CompressionType, FileDescriptor } from './descriptors.js';
import { stagedPath } from './staging.js';
import { type EntrySink, extractTar, type TarEntry, tarStream } from './tar.js';

/**
 * A chunk's bytes, both ways: files -> tar -> gzip or zstd (chunk-compression.ts) unless
 * NoCompression, with a SHA-256 of the chunk as stored, and back, checking it (or, for a format 1
 * backup, each file's SHA-256 instead). Every byte is hashed once either way. Streaming
 * code that knows no provider and no database, so it runs in the chunk workers (chunk-worker.ts),
 * off the thread that serves requests.
 * Memory is bounded by a few pieces of {@link PIECE_BYTES} whatever the chunk's size.
 */

/** Weaviate's compression levels, in the order of its API's enum. */
export const COMPRESSION_LEVELS = [
  'DefaultCompression',
  'BestSpeed',
  'BestCompression',
  'ZstdDefaultCompression',
  'ZstdBestSpeed',
  'ZstdBestCompression',
  'NoCompression',
] as const;

/** One of {@link COMPRESSION_LEVELS}. */
export type CompressionLevel = (typeof COMPRESSION_LEVELS)[number];

const GZIP_LEVELS: Record<Exclude<CompressionLevel, 'NoCompression' | ZstdLevel>, number> = {
  DefaultCompression: zlibConstants.Z_DEFAULT_COMPRESSION,
  BestSpeed: zlibConstants.Z_BEST_SPEED,
  BestCompression: zlibConstants.Z_BEST_COMPRESSION,
};

export function compressionTypeOf(level: CompressionLevel): CompressionType {
  if (level === 'NoCompression') return 'none';
  return isZstdLevel(level) ? 'zstd' : 'gzip';
}

/** Files are read, and compressed output produced, in pieces of this size. */
export const PIECE_BYTES = 1024 * 1024;

/** A file to pack: its name in the archive (and descriptor), where to read it, its size. */
export interface PackFile {
  readonly path: string;
  readonly source: string;
  readonly size: number;
}

/** What packing a chunk found: its stored size and SHA-256. */
export interface PackedChunk {
  readonly size: number;
  readonly sha256: string;
}

/** A file's bytes in pieces. */
async function* fileContent(file: PackFile, onFileBytes: (bytes: number) => void): AsyncIterable<Buffer> {
  const handle = await open(file.source, 'r');
  try {
    for await (const piece of handle.createReadStream({ highWaterMark: PIECE_BYTES, autoClose: false })) {
      onFileBytes((piece as Buffer).length);
      yield piece as Buffer;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Packs `files` into one chunk: yields its bytes and returns what it found. The files must not
 * change while they are read (backups read immutable, staged files); a size that differs fails.
 */
export async function* packChunk(
  files: readonly PackFile[],
  compression: CompressionLevel,
  onFileBytes: (bytes: number) => void,
): AsyncGenerator<Buffer, PackedChunk> {
  const entries = (async function* (): AsyncIterable<TarEntry> {
    for (const file of files) {
      const { mtime } = await stat(file.source);
      yield { name: file.path, size: file.size, mtime, content: fileContent(file, onFileBytes) };
    }
  })();
  const tar = tarStream(entries);
  const output =
    compression === 'NoCompression'
      ? tar
      : isZstdLevel(compression)
        ? zstdFrames(tar, compression, PIECE_BYTES)
        : gzipMembers(tar, GZIP_LEVELS[compression]);
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of output) {
    hash.update(piece);
    size += piece.length;
    yield piece;
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Gzips `source` as a series of gzip members of about {@link PIECE_BYTES} of input each, which any
 * gzip reader decompresses as one stream (RFC 1952, section 2.2). Compressing with the synchronous
 * API keeps the work on the calling thread, a chunk worker running at low priority: zlib's streams
 * would hand it to libuv's thread pool, at the priority of the threads serving requests. Deflate
 * looks back 32 KiB at most, so starting a member every MiB costs the ratio next to nothing.
 */
async function* gzipMembers(source: AsyncIterable<Uint8Array>, level: number): AsyncIterable<Buffer> {
  let pending: Uint8Array[] = [];
  let bytes = 0;
  for await (const piece of source) {
    pending.push(piece);
    bytes += piece.length;
    if (bytes < PIECE_BYTES) continue;
    yield gzipSync(Buffer.concat(pending, bytes), { level });
    pending = [];
    bytes = 0;
  }
  if (bytes > 0) yield gzipSync(Buffer.concat(pending, bytes), { level });
}

/** What unpacking needs to know of the chunk: its key (for messages) and what it should be. */
export interface UnpackTarget {
  readonly key: string;
  readonly size: number;
  readonly compression: CompressionType;
  /**
   * The chunk's SHA-256 as stored, checked once it has all streamed (format 2 backups); undefined
   * for a format 1 backup, whose files each carry theirs instead.
   */
  readonly sha256: string | undefined;
  /** The files the backup lists, by path; an entry not among them is refused. */
  readonly files: Readonly<Record<string, FileDescriptor>>;
  /** Where the files go, each under its path. */
  readonly staging: string;
}

/** The error for a chunk that streams more than its descriptor's `size`. */
export function chunkTooLong(key: string, size: number): StrataError {
  return new BackupCorruptError(key, `the chunk is longer than the ${size} bytes it should be`);
}

/**
 * Writes an entry to its staged file, checking its size against the descriptor, and its SHA-256 if
 * the descriptor has one (format 1). One write is in flight while the next piece arrives. The file is
 * not fsynced here: the restore syncs every staged file before it attaches any (restorer.ts), so the
 * disk's latency holds up no chunk.
 */
async function fileSink(
  path: string,
  expected: FileDescriptor,
  chunkKey: string,
  onFileBytes: (bytes: number) => void,
): Promise<EntrySink> {
  await mkdir(dirname(path), { recursive: true });
  const handle: FileHandle = await open(path, 'w');
  const hash = expected.sha256 === undefined ? undefined : createHash('sha256');
  let written = 0;
  let writing: Promise<void> = Promise.resolve();
  const close = async () => {
    await writing.catch(() => {});
    await handle.close();
  };
  return {
    async write(piece) {
      hash?.update(piece);
      written += piece.length;
      onFileBytes(piece.length);
      await writing;
      writing = writeAll(handle, piece);
      writing.catch(() => {}); // awaited by the next write, end or abort
    },
    abort: close,
    async end() {
      const digest = hash?.digest('hex');
      if (written !== expected.size || digest !== expected.sha256) {
        await close();
        throw new BackupCorruptError(
          chunkKey,
          digest === undefined
            ? `${expected.path} is ${written} bytes, the descriptor says ${expected.size}`
            : `${expected.path} does not match its checksum (sha256 ${digest}, expected ${expected.sha256})`,
        );
      }
      await writing;
      await handle.close();
    },
  };
}

/** Writes all of `bytes` at the file's position, however many calls that takes. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) offset += (await handle.write(bytes, offset)).bytesWritten;
}

/**
 * Unpacks a chunk from `source` into staging, checking the chunk's size, its archive's structure,
 * each file's size, and the chunk's SHA-256 once it has all streamed (a format 1 backup: each file's
 * SHA-256 instead). Resolves with the paths it extracted; the restore attaches nothing before every
 * chunk has resolved. A damaged stream fails with an error naming the chunk.
 *
 * A format 1 chunk's own SHA-256 is not computed: its files' hashes, the descriptor's names and
 * sizes and the zeros checked around them cover every byte, and hashing twice cost a NoCompression
 * restore 30% of its time (docs/backup-format.md).
 */
export async function unpackChunk(
  source: AsyncIterable<Uint8Array>,
  target: UnpackTarget,
  onFileBytes: (bytes: number) => void,
): Promise<string[]> {
  let size = 0;
  const hash = target.sha256 === undefined ? undefined : createHash('sha256');
  const counted = Readable.from(
    (async function* () {
      for await (const piece of source) {
        size += piece.length;
        // Stop at the first byte past the declared size: a hostile chunk cannot make us read gigabytes.
        if (size > target.size) throw chunkTooLong(target.key, target.size);
        hash?.update(piece);
        yield piece;
      }
    })(),
    { objectMode: false },
  );
  const plain =
    target.compression === 'gzip'
      ? counted.pipe(createGunzip({ chunkSize: 64 * 1024 }))
      : target.compression === 'zstd'
        ? Readable.from(zstdDecompressed(counted), { objectMode: false })
        : counted;
  if (plain !== counted) counted.on('error', (error) => plain.destroy(error));
  const extracted = new Set<string>();
  try {
    await extractTar(
      plain,
      async (name, entrySize) => {
        // An own property only: a tar entry named "constructor" must not find Object's.
        const expected = Object.hasOwn(target.files, name) ? target.files[name] : undefined;
        if (expected === undefined) {
          throw new BackupCorruptError(target.key, `holds ${quoted(name)}, which the backup descriptor does not list`);
        }
        // Each file once: repeating an entry could make a small chunk expand without bound.
        if (extracted.has(name)) throw new BackupCorruptError(target.key, `holds ${quoted(name)} twice`);
        if (expected.size !== entrySize) {
          throw new BackupCorruptError(
            target.key,
            `${name} is ${entrySize} bytes, the descriptor says ${expected.size}`,
          );
        }
        extracted.add(name);
        return fileSink(stagedPath(target.staging, name), expected, target.key, onFileBytes);
      },
      target.key,
    );
  } catch (error) {
    if (error instanceof StrataError) throw error;
    // A truncated or damaged gzip or zstd stream surfaces as the library's error: name the chunk.
    throw new BackupCorruptError(target.key, (error as Error).message).withCause(error);
  } finally {
    counted.destroy();
    plain.destroy();
  }
  if (size !== target.size)
    throw new BackupCorruptError(target.key, `the chunk is ${size} bytes, expected ${target.size}`);
  const digest = hash?.digest('hex');
  if (digest !== target.sha256) {
    throw new BackupCorruptError(
      target.key,
      `the chunk does not match its checksum (sha256 ${digest}, expected ${target.sha256})`,
    );
  }
  return [...extracted];
}
