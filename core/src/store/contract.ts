import type { Bytes } from './internal-key.js';

/**
 * The key-value store contract the rest of core is written against. `LsmStore` implements it; an
 * embedder can register another implementation under {@link STORE_FACTORY}.
 */

export type { Bytes } from './internal-key.js';

/** A key and its value. Returned buffers are copies the caller owns. */
export interface Entry {
  readonly key: Buffer;
  readonly value: Buffer;
}

/** Bounds of a scan, all optional; keys compare as bytes. */
export interface ScanRange {
  readonly gt?: Bytes;
  readonly gte?: Bytes;
  readonly lt?: Bytes;
  readonly lte?: Bytes;
  /** Only keys starting with these bytes. */
  readonly prefix?: Bytes;
  /** At most this many entries. */
  readonly limit?: number;
}

/** One write of a batch. */
export type BatchOperation =
  | { readonly type: 'put'; readonly bucket: string; readonly key: Bytes; readonly value: Bytes }
  | { readonly type: 'delete'; readonly bucket: string; readonly key: Bytes };

/**
 * A position in a bucket, moving forward in key order. It sees the files of the moment it was
 * opened (a compaction cannot pull them away) plus writes applied since; call `close()` when done.
 */
export interface Cursor {
  /** Moves to the first entry `>= key` (the bucket's first entry without a key). */
  seek(key?: Bytes): Promise<Entry | undefined>;
  /** Moves to the next entry; undefined past the end. */
  next(): Promise<Entry | undefined>;
  close(): void;
}

/** A named key space inside a store. */
export interface Bucket {
  readonly name: string;
  /** The value of `key`, or undefined when absent (or deleted). */
  get(key: Bytes): Promise<Buffer | undefined>;
  /** Sets `key` to `value`; resolves once the write is in the write-ahead log. */
  put(key: Bytes, value: Bytes): Promise<void>;
  /** Deletes `key` (writes a tombstone); deleting an absent key is not an error. */
  delete(key: Bytes): Promise<void>;
  /** Entries in ascending key order within `range`. Break out of the loop to stop early. */
  scan(range?: ScanRange): AsyncIterable<Entry>;
  cursor(): Cursor;
}

/** An immutable file of the store's current state, as `listFiles()` reports it. */
export interface StoreFile {
  /** Path relative to the store directory; the same after a restore. */
  readonly path: string;
  readonly size: number;
}

/** A store: buckets of ordered key-value pairs, and the snapshot contract backups use. */
export interface KeyValueStore {
  /** The store's directory. */
  readonly directory: string;
  bucket(name: string): Bucket;
  /** Applies every operation, possibly across buckets, atomically: all of them or none. */
  batch(operations: readonly BatchOperation[]): Promise<void>;
  /**
   * Writes everything acknowledged so far into immutable files. Writers carry on into a new
   * memtable meanwhile.
   */
  flush(): Promise<void>;
  /**
   * Stops background compaction, first stopping a running one, so the immutable files stay exactly
   * as they are. Counted: each call needs one `resumeCompaction()`.
   */
  pauseCompaction(): Promise<void>;
  /** Undoes one `pauseCompaction()`. Throws when compaction is not paused. */
  resumeCompaction(): void;
  /**
   * The immutable files that make up the store's flushed state, with sizes. Only while paused
   * (otherwise a compaction could delete a listed file): throws otherwise. A directory holding
   * exactly these files opens as a store with that state.
   */
  listFiles(): Promise<StoreFile[]>;
  /** Flushes, stops background work and releases the directory. */
  close(): Promise<void>;
}

/** Opens stores; registered in the DI container under {@link STORE_FACTORY}. */
export interface StoreFactory {
  open(directory: string): Promise<KeyValueStore>;
}

/** DI token of the {@link StoreFactory}. */
export const STORE_FACTORY = 'strata:StoreFactory';
