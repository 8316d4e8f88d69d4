import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import {
  assertSafeKey,
  type BackendScope,
  type BackupBackend,
  type CallOptions,
  InvalidKeyError,
  NotFoundError,
  type ObjectInfo,
  quoted,
  UnsupportedScopeError,
} from '@strata/core';
import { RootUnavailableError } from './errors.js';
import { type BackendDirent, type BackendFileHandle, type BackendFs, realFs } from './fs.js';

/** Writes in progress live beside their target under this prefix; listings skip them. */
const PARTIAL_PREFIX = '.strata-partial-';
/** Why discardPartialWrites refuses a prefix: a temporary file records its directory, not its key. */
const PARTIAL_PREFIX_RULE = 'discardPartialWrites() takes "" or a prefix that ends with "/", such as "<backupId>/"';
/** The access check's probe object. */
const PROBE_PREFIX = '.strata-access-check-';
/** A write retries this often when a concurrent delete prunes its directory between mkdir and open. */
const OPEN_ATTEMPTS = 5;
/** Reads stream an object in pieces this large: fewer calls into libuv's thread pool per byte. */
const READ_PIECE_BYTES = 1024 * 1024;
/**
 * A write fsyncs in the background every this many bytes, so the kernel writes back while the object
 * streams in and the fsync that ends the write waits for the last stretch only.
 */
const SYNC_EVERY_BYTES = 16 * 1024 * 1024;

const MODULE = 'backup-filesystem';

/** Options of {@link FilesystemBackend}. */
export interface FilesystemBackendOptions {
  /** The absolute directory backups are stored under (BACKUP_FILESYSTEM_PATH). */
  readonly root: string;
  /** The filesystem to use; node:fs unless a test injects memfs or a fault-injecting one. */
  readonly fs?: BackendFs;
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

/** Writes all of `bytes` at the file's position, however many calls that takes. */
async function writeAll(handle: BackendFileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
  }
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * A backup backend over a local directory. Keys map to files under the root (`a/b/c` is
 * `<root>/a/b/c`); a write streams into a hidden temporary file beside its target, fsyncs it and
 * renames it into place, so a crash never leaves part of an object under its final name; the
 * temporary file a crash leaves is invisible to listings, and discardPartialWrites removes it.
 *
 * Local to one machine: not usable by a multi-node cluster. Safe to call concurrently.
 */
export class FilesystemBackend implements BackupBackend {
  readonly #root: string;
  readonly #fs: BackendFs['promises'];

  constructor(options: FilesystemBackendOptions) {
    if (!isAbsolute(options.root)) throw new TypeError(`FilesystemBackend: root must be absolute, got ${options.root}`);
    this.#root = normalize(options.root);
    this.#fs = (options.fs ?? realFs).promises;
  }

  /** Creates the root directory if it is absent. */
  async init(): Promise<void> {
    try {
      await this.#fs.mkdir(this.#root, { recursive: true });
    } catch (error) {
      throw new RootUnavailableError(this.#root, (error as Error).message).withCause(error);
    }
  }

  homePath(backupId: string, scope?: BackendScope): string {
    this.#assertKey(backupId);
    return join(this.#rootOf(scope), ...backupId.split('/'));
  }

  async checkAccess(options?: CallOptions): Promise<void> {
    const key = `${PROBE_PREFIX}${randomBytes(8).toString('hex')}`;
    const root = this.#rootOf(options?.scope);
    try {
      await this.#fs.mkdir(root, { recursive: true });
      await this.#writeFile(root, join(root, key), (async function* () {})());
      await this.#fs.unlink(join(root, key));
    } catch (error) {
      throw new RootUnavailableError(root, (error as Error).message).withCause(error);
    }
  }

  async write(key: string, body: Readable, options?: CallOptions): Promise<number> {
    const root = this.#rootOf(options?.scope);
    const path = this.#pathOf(key, options?.scope);
    const signal = options?.signal;
    // Aborting destroys the source, so a write waiting on a source that stalls stops too.
    const source = signal === undefined ? body : addAbortSignal(signal, body);
    try {
      return await this.#writeFile(root, path, source, signal);
    } catch (error) {
      throw signal?.aborted ? signal.reason : error;
    }
  }

  async read(key: string, options?: CallOptions): Promise<Readable> {
    const path = this.#pathOf(key, options?.scope);
    let handle: BackendFileHandle;
    try {
      handle = await this.#fs.open(path, 'r');
    } catch (error) {
      if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes(errorCode(error) ?? '')) {
        throw new NotFoundError(key, this.#rootOf(options?.scope)).withCause(error);
      }
      throw error;
    }
    // Opening a directory succeeds on Linux; a directory is not an object.
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw new NotFoundError(key, this.#rootOf(options?.scope));
    }
    return handle.createReadStream({ signal: options?.signal, highWaterMark: READ_PIECE_BYTES });
  }

  async *list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo> {
    const root = this.#rootOf(options?.scope);
    const slash = prefix.lastIndexOf('/');
    const startKey = slash < 0 ? '' : prefix.slice(0, slash);
    if (startKey !== '') this.#assertKey(startKey);
    yield* this.#walk(root, startKey, prefix, options?.signal);
  }

  async delete(key: string, options?: CallOptions): Promise<void> {
    const root = this.#rootOf(options?.scope);
    const path = this.#pathOf(key, options?.scope);
    try {
      await this.#fs.unlink(path);
    } catch (error) {
      // Missing (or a directory, which is not an object): nothing to delete.
      if (['ENOENT', 'ENOTDIR', 'EISDIR', 'EPERM'].includes(errorCode(error) ?? '')) return;
      throw error;
    }
    await this.#pruneEmptyDirs(dirname(path), root);
  }

  /**
   * Unlinks the temporary files of interrupted writes in the prefix's directory and below, and the
   * directories that leaves empty. A write still in progress whose file is unlinked fails at its
   * rename, so it never puts part of an object under its key.
   */
  async discardPartialWrites(prefix: string, options?: CallOptions): Promise<number> {
    const root = this.#rootOf(options?.scope);
    let dirKey = '';
    if (prefix !== '') {
      if (!prefix.endsWith('/')) throw new InvalidKeyError(prefix, PARTIAL_PREFIX_RULE);
      dirKey = prefix.slice(0, -1);
      this.#assertKey(dirKey);
    }
    const dir = dirKey === '' ? root : join(root, ...dirKey.split('/'));
    try {
      const removed = await this.#discardIn(dir, options?.signal);
      if (removed > 0) await this.#pruneEmptyDirs(dir, root);
      return removed;
    } catch (error) {
      if (options?.signal?.aborted) throw options.signal.reason;
      throw new RootUnavailableError(root, (error as Error).message).withCause(error);
    }
  }

  #rootOf(scope: BackendScope | undefined): string {
    if (scope?.bucket !== undefined && scope.bucket !== '') {
      throw new UnsupportedScopeError(
        MODULE,
        'it stores backups in a directory and has no buckets; remove config.Bucket, or set config.Path to another directory',
      );
    }
    if (scope?.path === undefined || scope.path === '') return this.#root;
    // A request's path stays inside the configured directory: never anywhere the process can write.
    const dir = resolve(this.#root, scope.path);
    const inside = relative(this.#root, dir);
    if (scope.path.includes('\0') || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw new UnsupportedScopeError(
        MODULE,
        `config.Path must be a directory inside BACKUP_FILESYSTEM_PATH (${this.#root}): a path relative to it, ` +
          `or an absolute path under it; got ${quoted(scope.path)}`,
      );
    }
    return dir;
  }

  #assertKey(key: string): void {
    assertSafeKey(key);
    if (key.split('/').some((segment) => segment.startsWith(PARTIAL_PREFIX))) {
      throw new InvalidKeyError(key, `names starting with "${PARTIAL_PREFIX}" are reserved for writes in progress`);
    }
  }

  #pathOf(key: string, scope: BackendScope | undefined): string {
    this.#assertKey(key);
    return join(this.#rootOf(scope), ...key.split('/'));
  }

  async #openTemporary(dir: string): Promise<{ temp: string; handle: BackendFileHandle }> {
    for (let attempt = 1; ; attempt++) {
      const temp = join(dir, `${PARTIAL_PREFIX}${randomBytes(8).toString('hex')}`);
      await this.#fs.mkdir(dir, { recursive: true });
      try {
        return { temp, handle: await this.#fs.open(temp, 'wx') };
      } catch (error) {
        if (errorCode(error) !== 'ENOENT' || attempt === OPEN_ATTEMPTS) throw error;
      }
    }
  }

  async #writeFile(root: string, path: string, body: AsyncIterable<unknown>, signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    const dir = dirname(path);
    const { temp, handle } = await this.#openTemporary(dir);
    // One write in flight while the next piece is awaited, and a background fsync now and then:
    // the body keeps streaming while the disk works.
    let writing: Promise<unknown> = Promise.resolve();
    let syncing: Promise<unknown> = Promise.resolve();
    let written = 0;
    let unsynced = 0;
    try {
      for await (const chunk of body) {
        signal?.throwIfAborted();
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        await writing;
        writing = writeAll(handle, bytes);
        writing.catch(() => {}); // awaited before the next write or at the end
        written += bytes.length;
        unsynced += bytes.length;
        if (unsynced >= SYNC_EVERY_BYTES) {
          unsynced = 0;
          const previous = writing;
          syncing = Promise.all([syncing, previous]).then(() => handle.sync());
          syncing.catch(() => {});
        }
      }
      await writing;
      signal?.throwIfAborted();
      await syncing;
      await handle.sync();
      await handle.close();
      await this.#fs.rename(temp, path);
    } catch (error) {
      await Promise.allSettled([writing, syncing]); // nothing may use the handle once it is closed
      await handle.close().catch(() => {});
      await this.#fs.unlink(temp).catch(() => {});
      await this.#pruneEmptyDirs(dir, root); // a failed write leaves nothing, not even its directories
      throw error;
    }
    await this.#syncDir(dir);
    return written;
  }

  /** Makes the rename durable. Best effort: some filesystems cannot fsync a directory. */
  async #syncDir(dir: string): Promise<void> {
    try {
      const handle = await this.#fs.open(dir, 'r');
      await handle.sync().finally(() => handle.close());
    } catch {
      // The data itself is synced; only the rename's durability across power loss is at stake.
    }
  }

  async *#walk(root: string, dirKey: string, prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    signal?.throwIfAborted();
    const dir = dirKey === '' ? root : join(root, ...dirKey.split('/'));
    let entries: Awaited<ReturnType<BackendFs['promises']['readdir']>>;
    try {
      entries = await this.#fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (['ENOENT', 'ENOTDIR'].includes(errorCode(error) ?? '')) return;
      throw error;
    }
    // Sorting directories as "name/" makes a depth-first walk yield keys in exact byte order.
    const items = entries
      .filter((entry) => !entry.name.startsWith(PARTIAL_PREFIX) && (entry.isFile() || entry.isDirectory()))
      .map((entry) => ({ entry, order: entry.isDirectory() ? `${entry.name}/` : entry.name }))
      .sort((a, b) => byteOrder(a.order, b.order));
    for (const { entry } of items) {
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) {
        const below = `${key}/`;
        if (below.startsWith(prefix) || prefix.startsWith(below)) yield* this.#walk(root, key, prefix, signal);
      } else if (key.startsWith(prefix)) {
        try {
          yield { key, size: (await this.#fs.stat(join(dir, entry.name))).size };
        } catch (error) {
          if (errorCode(error) !== 'ENOENT') throw error; // deleted while listing
        }
      }
    }
  }

  /** Unlinks the temporary files in `dir` and below; returns how many, and removes the directories it empties. */
  async #discardIn(dir: string, signal: AbortSignal | undefined): Promise<number> {
    signal?.throwIfAborted();
    let entries: BackendDirent[];
    try {
      entries = await this.#fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (['ENOENT', 'ENOTDIR'].includes(errorCode(error) ?? '')) return 0;
      throw error;
    }
    let removed = 0;
    // Symbolic links are neither files nor directories here: never followed, so this stays in the root.
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const below = await this.#discardIn(path, signal);
        if (below > 0) await this.#fs.rmdir(path).catch(() => {}); // fails while it holds objects
        removed += below;
      } else if (entry.isFile() && entry.name.startsWith(PARTIAL_PREFIX)) {
        try {
          await this.#fs.unlink(path);
          removed++;
        } catch (error) {
          if (errorCode(error) !== 'ENOENT') throw error; // renamed into place or removed meanwhile
        }
      }
    }
    return removed;
  }

  async #pruneEmptyDirs(dir: string, root: string): Promise<void> {
    for (let current = dir; current !== root && current.startsWith(`${root}/`); current = dirname(current)) {
      try {
        await this.#fs.rmdir(current);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
    }
  }
}
