import { join, resolve } from 'node:path';
import {
  isCorruption,
  StoreClosedError,
  StoreFailedError,
  StoreNotPausedError,
  StoreWriteFailedError,
} from '../errors.js';
import { BlockCache } from './block-cache.js';
import { LsmBucket } from './bucket.js';
import { CommitQueue, type SyncPolicy } from './commit-queue.js';
import { pickCompaction } from './compaction-picker.js';
import type { BatchOperation, Bucket, KeyValueStore, StoreFile } from './contract.js';
import { segmentFileName, temporaryFileName, walFileName } from './filenames.js';
import { bucketPrefix, internalKey, valueBytes } from './internal-key.js';
import { inlineRunner, JobAborted, type JobRunner, sharedRunner } from './jobs.js';
import { acquireLock } from './lock.js';
import { Memtable } from './memtable.js';
import { MergeCursor, type SortedSource } from './merge-cursor.js';
import { RecordArena } from './record-arena.js';
import { recoverDirectory } from './recovery.js';
import { SegmentCursor, SegmentReader } from './segment-reader.js';
import { realFs, type StoreFs } from './vfs.js';
import { WalFile } from './wal-file.js';
import { encodeRecord, type Operation } from './wal-format.js';
import type { BudgetedStore, WriteBudget } from './write-budget.js';

/** Options of {@link LsmStore.open}. */
export interface LsmStoreOptions {
  /** The filesystem; node:fs unless a test injects another. */
  readonly fs?: StoreFs;
  /** When the write-ahead log is fsynced; default every 100 ms. See {@link SyncPolicy}. */
  readonly sync?: SyncPolicy;
  /** The memtable is flushed to a segment once it holds this much; default 32 MiB. */
  readonly memtableBytes?: number;
  /** Size of the cache of data blocks when the store makes its own; default 32 MiB. */
  readonly blockCacheBytes?: number;
  /**
   * A cache shared with other stores, used instead of one of `blockCacheBytes` so that memory is
   * bounded per process rather than per store. Sharing is safe: keys start with a segment uid unique
   * in the process.
   */
  readonly blockCache?: BlockCache;
  /**
   * A bound on the memtables of this store and the others sharing it; without one, only
   * `memtableBytes` bounds this store's memtables. See {@link WriteBudget}.
   */
  readonly writeBudget?: WriteBudget;
  /**
   * Run flushes and compactions in worker threads (default: yes on the real filesystem; an injected
   * filesystem cannot be shared with a worker, so its jobs run inline, giving way between blocks).
   */
  readonly backgroundThreads?: boolean;
}

const MiB = 1024 * 1024;
const DEFAULT_SYNC: SyncPolicy = { mode: 'interval', intervalMs: 100 };
/** Writers wait when this many memtables are waiting to be flushed, so memory stays bounded. */
const MAX_FROZEN = 2;

/** What a store holds, for tests, benchmarks and operators. */
export interface StoreStats {
  readonly segments: ReadonlyArray<{ readonly name: string; readonly size: number; readonly entries: number }>;
  readonly memtableBytes: number;
  readonly frozenMemtables: number;
  /** Bytes of the frozen memtables (held until their flush completes). */
  readonly frozenMemtableBytes: number;
  readonly compactionPaused: boolean;
  /** True while a compaction runs. */
  readonly compacting: boolean;
  /** Compactions finished since the store opened. */
  readonly compactions: number;
  /** The last background compaction failure, if any (compaction retries after the next flush). */
  readonly compactionError: Error | undefined;
}

/**
 * A log-structured merge store. Writes go to a write-ahead log (group-committed), then to the
 * memtable, an in-memory B+tree with a Map beside it for point lookups (memtable.ts); full memtables
 * are frozen and flushed to immutable, sorted, checksummed segment files with a bloom filter;
 * background compaction merges adjacent segments.
 *
 * Concurrency: every method may be called at any time from the one JavaScript thread. Reads never
 * wait for flushes or compactions (those run in worker threads and swap in their result in one
 * synchronous step). Writes wait only when two memtables are already waiting to be flushed.
 *
 * Invariants: segments are ordered oldest to newest and cover disjoint, increasing WAL ranges; a
 * memtable's writes are exactly the records of its WAL; for any key the newest source wins
 * (memtable, then frozen memtables newest first, then segments newest first).
 */
export class LsmStore implements KeyValueStore {
  readonly directory: string;
  readonly #fs: StoreFs;
  readonly #memtableLimit: number;
  readonly #cache: BlockCache;
  readonly #releaseLock: () => void;
  readonly #commits: CommitQueue;
  readonly #flushRunner: JobRunner;
  readonly #compactionRunner: JobRunner;
  readonly #buckets = new Map<string, LsmBucket>();
  readonly #records = new RecordArena();
  readonly #budget: WriteBudget | undefined;
  /** This store as its budget sees it. */
  readonly #budgeted: BudgetedStore = {
    activeBytes: () => this.#memtable.bytes,
    frozenBytes: () => this.#frozenBytes(),
    // Safe between any two groups, as flush() is: a flush rebuilds the memtable from its own log.
    rotate: () => this.#rotate(),
  };
  #wal: WalFile;
  #memtable: Memtable;
  /** Memtables waiting to be flushed, newest first. */
  #frozen: Memtable[] = [];
  /** Live segments, oldest first. */
  #segments: SegmentReader[];
  #nextWalNumber: number;
  #flushing: Promise<void> | undefined;
  #compacting: Promise<void> | undefined;
  /** Aborts the running compaction (pause, close). */
  #compactionAbort: AbortController | undefined;
  #flushWaiters: Array<() => void> = [];
  #pauses = 0;
  #compactions = 0;
  #compactionError: Error | undefined;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    directory: string,
    fs: StoreFs,
    options: LsmStoreOptions,
    state: { segments: SegmentReader[]; nextWalNumber: number; cache: BlockCache; releaseLock: () => void },
    runners: { flush: JobRunner; compaction: JobRunner },
  ) {
    this.directory = directory;
    this.#fs = fs;
    this.#memtableLimit = options.memtableBytes ?? 32 * MiB;
    this.#cache = state.cache;
    this.#releaseLock = state.releaseLock;
    this.#segments = state.segments;
    this.#flushRunner = runners.flush;
    this.#compactionRunner = runners.compaction;
    this.#nextWalNumber = state.nextWalNumber;
    this.#wal = WalFile.create(fs, directory, this.#nextWalNumber++);
    this.#memtable = new Memtable(this.#wal.number);
    this.#commits = new CommitQueue(
      {
        currentWal: () => this.#wal,
        apply: (operations) => {
          for (const { key, value } of operations) this.#memtable.set(key, value);
        },
        afterGroup: () => {
          if (this.#memtable.bytes >= this.#memtableLimit) this.#rotate();
          this.#budget?.enforce();
        },
        fail: (error) => this.#fail(error),
      },
      options.sync ?? DEFAULT_SYNC,
    );
    this.#maybeCompact();
    // Last: a constructor that threw must leave nothing registered.
    this.#budget = options.writeBudget;
    this.#budget?.register(this.#budgeted);
  }

  /**
   * Opens (creating if needed) the store in `directory`. Removes what a crash left behind, flushes
   * write-ahead logs that were not yet in segments, and verifies every segment's footer, index and
   * bloom filter. A directory holding only segments (restored from a backup) opens with their data.
   *
   * @throws StoreLockedError when another live process (or this one) has the directory open.
   * @throws CorruptionError when a segment or a log is damaged beyond a torn tail.
   */
  static async open(directory: string, options: LsmStoreOptions = {}): Promise<LsmStore> {
    const fs = options.fs ?? realFs;
    const dir = resolve(directory);
    fs.mkdirSync(dir, { recursive: true });
    const releaseLock = acquireLock(fs, dir);
    const background = options.backgroundThreads ?? fs === realFs;
    const runners = {
      flush: background ? sharedRunner('flush') : inlineRunner(fs),
      compaction: background ? sharedRunner('compaction') : inlineRunner(fs),
    };
    const cache = options.blockCache ?? new BlockCache(options.blockCacheBytes ?? 32 * MiB);
    const segments: SegmentReader[] = [];
    try {
      const state = recoverDirectory(fs, dir);
      for (const { name, lo, hi } of state.segments) segments.push(SegmentReader.open(fs, dir, name, [lo, hi], cache));
      for (const walNumber of state.walsToRecover) {
        const flushed = await runners.flush.flush({ dir, walNumber });
        if (flushed !== null)
          segments.push(SegmentReader.open(fs, dir, flushed.segment, [walNumber, walNumber], cache));
        fs.unlinkSync(join(dir, walFileName(walNumber)));
      }
      return new LsmStore(
        dir,
        fs,
        options,
        { segments, nextWalNumber: state.nextWalNumber, cache, releaseLock },
        runners,
      );
    } catch (error) {
      for (const segment of segments) segment.unref();
      releaseLock();
      throw error;
    }
  }

  bucket(name: string): Bucket {
    let bucket = this.#buckets.get(name);
    if (bucket === undefined) {
      bucket = new LsmBucket(name, bucketPrefix(name), {
        lookup: (key) => this.#lookup(key),
        write: (operations) => this.#write(operations),
        openCursor: () => this.#openCursor(),
      });
      this.#buckets.set(name, bucket);
    }
    return bucket;
  }

  batch(operations: readonly BatchOperation[]): Promise<void> {
    let encoded: Operation[];
    try {
      encoded = operations.map((operation) => ({
        key: internalKey(bucketPrefix(operation.bucket), operation.key),
        value: operation.type === 'put' ? valueBytes(operation.value) : undefined,
      }));
    } catch (error) {
      return Promise.reject(error);
    }
    return encoded.length === 0 ? Promise.resolve() : this.#write(encoded);
  }

  async flush(): Promise<void> {
    this.#assertWritable();
    const through = this.#memtable.count > 0 ? this.#memtable.walNumber : this.#frozen[0]?.walNumber;
    this.#rotate();
    if (through !== undefined) await this.#flushedThrough(through);
  }

  async pauseCompaction(): Promise<void> {
    this.#assertOpen();
    this.#pauses++;
    if (this.#compacting !== undefined) {
      this.#compactionAbort?.abort();
      await this.#compacting;
    }
  }

  resumeCompaction(): void {
    if (this.#pauses === 0) throw new StoreNotPausedError('resumeCompaction()');
    this.#pauses--;
    this.#maybeCompact();
  }

  async listFiles(): Promise<StoreFile[]> {
    this.#assertOpen();
    if (this.#pauses === 0) throw new StoreNotPausedError('listFiles()');
    return this.#segments.map((segment) => ({ path: segment.name, size: segment.size }));
  }

  /**
   * Merges every segment into one, dropping overwritten values and tombstones, after any running
   * compaction. Does nothing while compaction is paused.
   */
  async compact(): Promise<void> {
    this.#assertOpen();
    // A finishing compaction may start the next one: wait until none runs, then start synchronously.
    while (this.#compacting !== undefined) await this.#compacting;
    if (this.#pauses > 0 || this.#segments.length < 2) return;
    const run = this.#compact([...this.#segments]);
    this.#compacting = run.finally(() => {
      this.#compacting = undefined;
    });
    await this.#compacting;
    if (this.#compactionError !== undefined) throw this.#compactionError;
  }

  stats(): StoreStats {
    return {
      segments: this.#segments.map(({ name, size, entryCount }) => ({ name, size, entries: entryCount })),
      memtableBytes: this.#memtable.bytes,
      frozenMemtables: this.#frozen.length,
      frozenMemtableBytes: this.#frozenBytes(),
      compactionPaused: this.#pauses > 0,
      compacting: this.#compacting !== undefined,
      compactions: this.#compactions,
      compactionError: this.#compactionError,
    };
  }

  close(): Promise<void> {
    // A closing store flushes everything itself; the budget must not count or rotate it meanwhile.
    this.#budget?.unregister(this.#budgeted);
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    await this.#commits.drain();
    this.#commits.stop();
    if (this.#failure === undefined) {
      this.#rotate();
      await this.#flushing;
    }
    this.#compactionAbort?.abort();
    await this.#compacting;
    this.#wal.close(false);
    if (this.#failure === undefined && this.#memtable.count === 0)
      this.#fs.unlinkSync(join(this.directory, walFileName(this.#wal.number)));
    for (const segment of this.#segments) segment.unref();
    this.#releaseLock();
  }

  /** Stops writes for good; a failed store's memtables can no longer be flushed, so the budget drops it. */
  #fail(error: Error): void {
    this.#failure ??= error;
    this.#budget?.unregister(this.#budgeted);
  }

  #frozenBytes(): number {
    let bytes = 0;
    for (const memtable of this.#frozen) bytes += memtable.bytes;
    return bytes;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new StoreClosedError(this.directory);
  }

  #assertWritable(): void {
    this.#assertOpen();
    if (this.#failure !== undefined) {
      throw new StoreFailedError(this.directory, this.#failure.message).withCause(this.#failure);
    }
  }

  async #write(operations: Operation[]): Promise<void> {
    this.#assertWritable();
    while (this.#frozen.length >= MAX_FROZEN) {
      await new Promise<void>((resolve) => this.#flushWaiters.push(resolve));
      this.#assertWritable();
    }
    try {
      const { record, views } = encodeRecord(operations, (bytes) => this.#records.allocate(bytes));
      await this.#commits.submit(record, views);
    } catch (error) {
      throw new StoreWriteFailedError(this.directory, (error as Error).message).withCause(error);
    }
  }

  #lookup(key: Buffer): Buffer | undefined {
    let found = this.#memtable.get(key);
    for (let i = 0; !found.found && i < this.#frozen.length; i++) found = (this.#frozen[i] as Memtable).get(key);
    for (let i = this.#segments.length - 1; !found.found && i >= 0; i--)
      found = (this.#segments[i] as SegmentReader).get(key);
    return found.found && found.value !== undefined ? Buffer.from(found.value) : undefined;
  }

  #openCursor(): { cursor: MergeCursor; release(): void } {
    const memtables = [this.#memtable, ...this.#frozen];
    const segments = [...this.#segments].reverse();
    for (const segment of segments) segment.ref();
    const sources: SortedSource[] = [
      ...memtables.map((memtable) => memtable.cursor()),
      ...segments.map((segment) => new SegmentCursor(segment)),
    ];
    let released = false;
    return {
      cursor: new MergeCursor(sources),
      release: () => {
        if (released) return;
        released = true;
        for (const segment of segments) segment.unref();
      },
    };
  }

  /** Freezes the memtable (if it holds anything) and starts a new one with a new log. */
  #rotate(): void {
    if (this.#memtable.count === 0) return;
    const frozen = this.#memtable;
    try {
      this.#wal.close(false);
      this.#wal = WalFile.create(this.#fs, this.directory, this.#nextWalNumber++);
    } catch (error) {
      this.#fail(error as Error);
      return;
    }
    this.#memtable = new Memtable(this.#wal.number);
    this.#frozen.unshift(frozen);
    this.#flushing ??= this.#flushLoop().finally(() => {
      this.#flushing = undefined;
    });
  }

  async #flushLoop(): Promise<void> {
    while (this.#frozen.length > 0 && this.#failure === undefined) {
      const oldest = this.#frozen[this.#frozen.length - 1] as Memtable;
      const walNumber = oldest.walNumber;
      try {
        const flushed = await this.#flushRunner.flush({ dir: this.directory, walNumber });
        if (flushed !== null) {
          this.#segments.push(
            SegmentReader.open(this.#fs, this.directory, flushed.segment, [walNumber, walNumber], this.#cache),
          );
        }
        this.#frozen.pop();
        this.#fs.unlinkSync(join(this.directory, walFileName(walNumber)));
      } catch (error) {
        this.#fail(error as Error);
      }
      this.#notifyFlushed();
      this.#maybeCompact();
    }
    this.#notifyFlushed();
  }

  #notifyFlushed(): void {
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves once every memtable up to WAL `walNumber` is in a segment. */
  async #flushedThrough(walNumber: number): Promise<void> {
    while (this.#frozen.some((memtable) => memtable.walNumber <= walNumber)) {
      if (this.#failure !== undefined) this.#assertWritable();
      await new Promise<void>((resolve) => this.#flushWaiters.push(resolve));
    }
    this.#assertWritable();
  }

  #maybeCompact(): void {
    if (
      this.#compacting !== undefined ||
      this.#pauses > 0 ||
      this.#closing !== undefined ||
      this.#failure !== undefined
    )
      return;
    const oldest = pickCompaction(this.#segments.map((segment) => segment.size));
    if (oldest === undefined) return;
    const inputs = this.#segments.slice(oldest, oldest + 2);
    this.#compacting = this.#compact(inputs).finally(() => {
      this.#compacting = undefined;
      this.#maybeCompact();
    });
  }

  /** Merges adjacent live segments `inputs` and swaps the result in; never throws. */
  async #compact(inputs: SegmentReader[]): Promise<void> {
    const first = inputs[0] as SegmentReader;
    const last = inputs[inputs.length - 1] as SegmentReader;
    const job = { dir: this.directory, inputs: inputs.map((s) => s.name), dropTombstones: this.#segments[0] === first };
    const abort = new AbortController();
    this.#compactionAbort = abort;
    try {
      const result = await this.#compactionRunner.compact(job, abort.signal);
      const output = SegmentReader.open(this.#fs, this.directory, result.segment, [first.lo, last.hi], this.#cache);
      const at = this.#segments.indexOf(first);
      this.#segments.splice(at, inputs.length, output);
      for (const input of inputs) {
        this.#fs.unlinkSync(join(this.directory, input.name));
        input.unref();
      }
      this.#compactions++;
      this.#compactionError = undefined;
    } catch (error) {
      const temporary = join(this.directory, temporaryFileName(segmentFileName(first.lo, last.hi)));
      try {
        this.#fs.unlinkSync(temporary);
      } catch {
        // Usually already removed by the job itself.
      }
      if (error instanceof JobAborted) return;
      this.#compactionError = error as Error;
      if (isCorruption(error)) this.#fail(error as Error);
    } finally {
      this.#compactionAbort = undefined;
    }
  }
}
