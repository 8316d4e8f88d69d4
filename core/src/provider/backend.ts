import type { Readable } from 'node:stream';

/**
 * Where one call's objects live. Every field is optional: an empty scope means the bucket and path
 * the module was configured with (`BACKUP_S3_BUCKET`, `BACKUP_S3_PATH`, ...). A request can override
 * them for one backup (Weaviate's `config.Bucket` and `config.Path`), so a backup can be written to or
 * restored from another location.
 */
export interface BackendScope {
  /** Bucket (or container) to use instead of the configured one. */
  readonly bucket?: string | undefined;
  /** Path prefix (for a filesystem backend: a directory inside the configured one) to use instead of the configured one. */
  readonly path?: string | undefined;
}

/** Options every backend call accepts. */
export interface CallOptions {
  /** Overrides the configured bucket or path for this call. */
  readonly scope?: BackendScope | undefined;
  /** Aborts the call; the backend rejects with the signal's reason and leaves nothing half-written. */
  readonly signal?: AbortSignal | undefined;
}

/** One stored object, as listed. */
export interface ObjectInfo {
  /** The key, relative to the scope's root, with `/` separators. */
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
}

/** What a backend can do, declared by its module (see `defineBackupModule`). */
export interface BackendCapabilities {
  /**
   * True when the storage is reachable from every node of a cluster (S3, GCS, Azure); false for storage
   * local to one machine (a directory). A cluster of more than one node refuses a non-external backend
   * for backups and restores, with Weaviate's 422; `strata modules` shows the capability.
   */
  readonly external: boolean;
  /**
   * How the backend reads `scope.path` (a request's `config.Path`): as a key prefix inside the
   * bucket (`prefix`, object stores) or as a directory inside the configured one (`directory`: a
   * relative path resolved against it, or an absolute path under it; anything else is refused). A
   * `directory` backend's `homePath(id)` is the local directory `<root>/<id>`, which core keeps out
   * of the node's data path. Leave it out when the backend refuses `scope.path`. The conformance
   * suite runs every check a second time under a relative `scope.path`.
   */
  readonly pathScope?: 'prefix' | 'directory';
}

/**
 * The contract every backup provider implements: a store of opaque objects under string keys.
 *
 * Keys are relative to the scope's root (configured bucket and path, or the call's overrides), use `/`
 * as separator and are checked with `assertSafeKey` by core before they reach a backend. Core lays
 * backups out as `<backupId>/backup_config.json`, `<backupId>/<node>/<Class>/chunk-<n>` and so on; the
 * backend knows nothing of that layout.
 *
 * Every method may be called concurrently with any other, for different keys or the same key.
 * `@strata/conformance` checks every rule written here.
 */
export interface BackupBackend {
  /**
   * Where a backup lives, for humans and for API responses (`path`): `s3://bucket/prefix/id`,
   * `gs://bucket/prefix/id`, or a directory for the filesystem backend. Pure: does no I/O.
   */
  homePath(backupId: string, scope?: BackendScope): string;

  /**
   * Proves the backend can write, read and delete under the scope's root, so a backup fails at
   * creation rather than after hours of upload. Rejects with an error that says what to check
   * (bucket name, credentials, endpoint, permissions). Leaves nothing behind.
   */
  checkAccess(options?: CallOptions): Promise<void>;

  /**
   * Streams `body` into the object `key`, replacing any existing object, and resolves with the number
   * of bytes written. Atomic: until it resolves, readers see the old object or none, never a part of
   * the new one. If `body` errors or the signal aborts, rejects with that error and leaves nothing
   * under `key`. Memory use must not grow with the object's size.
   */
  write(key: string, body: Readable, options?: CallOptions): Promise<number>;

  /**
   * Opens the object `key` for streaming. Rejects with `NotFoundError` (checked by code) when it does
   * not exist, before any data flows; errors after that surface on the stream.
   */
  read(key: string, options?: CallOptions): Promise<Readable>;

  /**
   * Every object whose key starts with `prefix` (a plain string prefix, not only whole path segments),
   * exactly once, in ascending byte order of the key, across however many pages the storage returns.
   */
  list(prefix: string, options?: CallOptions): AsyncIterable<ObjectInfo>;

  /** Deletes the object `key`. Deleting an object that does not exist succeeds. */
  delete(key: string, options?: CallOptions): Promise<void>;

  /**
   * Removes what interrupted writes left under `prefix`, and resolves with the number of interrupted
   * writes whose leftovers it removed (one per temporary file or unfinished multipart upload, not per
   * part or byte). A write keeps such state while it runs and removes it when it ends; a process that
   * dies mid-write leaves it behind, invisible to `list` and never collected: a filesystem's temporary
   * files, S3's unfinished multipart uploads (billed until aborted).
   *
   * Never removes or changes a finished object, and never touches anything outside `prefix`. `prefix`
   * is `''` (all of the scope's root) or ends with `/` (a backup's is `<backupId>/`), and what precedes
   * that `/` passes `assertSafeKey`; any other prefix is refused with `InvalidKeyError`. Whole path
   * segments only, so that every backend removes the same set whether or not its leftovers record
   * their key (a temporary file records only its directory). Called again with no write interrupted
   * in between, it resolves with 0.
   *
   * Core calls it during crash recovery, for the backup this node was running when it died, while no
   * write of this node is in progress under `prefix`. It must be safe if one is anyway: that write may
   * then fail, but it never leaves part of an object under its key; it rejects and leaves nothing, or
   * completes whole. In a multi-node backup the other nodes write under the same `<backupId>/`:
   * narrow the prefix to what this node writes.
   *
   * Optional. Implement it when the storage keeps state for an unfinished write that outlives the
   * process and is never collected (temporary files, S3 multipart uploads). It may be left out when
   * there is none, or when the storage collects it by itself: Google Cloud Storage's resumable
   * sessions hold no object, cannot be listed and end a week after they start; Azure discards
   * uncommitted blocks a week after the last one was staged. docs/writing-a-provider.md says more.
   */
  discardPartialWrites?(prefix: string, options?: CallOptions): Promise<number>;

  /** Releases clients and sockets; called once when the node stops. */
  close?(): Promise<void>;
}
