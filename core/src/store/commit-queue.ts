import type { WalFile } from './wal-file.js';
import type { Operation } from './wal-format.js';

/**
 * When the write-ahead log is made durable (fsynced). Whatever the policy, a write is acknowledged
 * only after its record was written to the operating system, so it survives the process being killed.
 * - `always`: every acknowledged write also survives power loss (fdatasync before acknowledging;
 *   concurrent writers share one fdatasync).
 * - `interval`: the log is fdatasynced every `intervalMs`; at most that much acknowledged data can be
 *   lost to a power failure.
 * - `flush`: the log is never fdatasynced; data becomes power-loss durable when its memtable is
 *   flushed to a segment (segments are always fsynced).
 */
export type SyncPolicy =
  | { readonly mode: 'always' }
  | { readonly mode: 'interval'; readonly intervalMs: number }
  | { readonly mode: 'flush' };

/** What the commit queue writes into: the store. */
export interface CommitTarget {
  /** The log records go to now. */
  currentWal(): WalFile;
  /** Applies a committed batch to the memtable. */
  apply(operations: readonly Operation[]): void;
  /** Called after each group is applied: the place to rotate the memtable and log. */
  afterGroup(): void;
  /** A failure after which nothing may be written (the log's state is unknown). */
  fail(error: Error): void;
}

/**
 * Bytes of records one group writes at most (a group holds at least one record). Writes submitted
 * together (a large batch, or writers released at once when a flush frees the memtable) would
 * otherwise become one write of tens of megabytes: 19 MB held the event loop for 46 ms.
 */
const MAX_GROUP_BYTES = 1024 * 1024;

interface Pending {
  readonly record: Buffer;
  readonly operations: readonly Operation[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * Group commit. Writes submitted in the same tick are written to the log with one `write` call of at
 * most {@link MAX_GROUP_BYTES} (and, under the `always` policy, made durable with one fdatasync),
 * then applied to the memtable in submission order, then acknowledged; more waits for the next turn
 * of the event loop. While an fdatasync is in flight, new writes wait and form the
 * next group, so a log's records are always applied to the memtable that belongs to that log.
 */
export class CommitQueue {
  readonly #target: CommitTarget;
  readonly #policy: SyncPolicy;
  #pending: Pending[] = [];
  #scheduled = false;
  #syncing = false;
  #idle: Array<() => void> = [];
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(target: CommitTarget, policy: SyncPolicy) {
    this.#target = target;
    this.#policy = policy;
    if (policy.mode === 'interval') {
      this.#timer = setInterval(() => this.#syncInBackground(), policy.intervalMs);
      this.#timer.unref();
    }
  }

  /** Commits one encoded batch; resolves once it is in the log (durably, under `always`) and applied. */
  submit(record: Buffer, operations: readonly Operation[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ record, operations, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#writeGroup());
      }
    });
  }

  /** Resolves once every submitted write has been committed or rejected. */
  drain(): Promise<void> {
    if (!this.#syncing && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops the interval timer. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  #writeGroup(): void {
    this.#scheduled = false;
    if (this.#syncing) return; // the sync's completion writes the next group
    const group = this.#takeGroup();
    if (group.length === 0) {
      this.#notifyIdle();
      return;
    }
    const wal = this.#target.currentWal();
    try {
      wal.append(group.length === 1 ? (group[0] as Pending).record : Buffer.concat(group.map((p) => p.record)));
    } catch (error) {
      if ((error as { unrecoverable?: boolean }).unrecoverable) this.#target.fail(error as Error);
      for (const pending of group) pending.reject(error as Error);
      this.#next();
      return;
    }
    if (this.#policy.mode !== 'always') {
      this.#complete(group);
      return;
    }
    this.#syncing = true;
    wal.sync().then(
      () => {
        this.#syncing = false;
        this.#complete(group);
      },
      (error: Error) => {
        this.#syncing = false;
        // The records may or may not be durable: no later write may be acknowledged on this log.
        this.#target.fail(error);
        for (const pending of group) pending.reject(error);
        this.#next();
      },
    );
  }

  #complete(group: readonly Pending[]): void {
    for (const pending of group) this.#target.apply(pending.operations);
    this.#target.afterGroup();
    for (const pending of group) pending.resolve();
    this.#next();
  }

  /** The oldest pending writes, up to {@link MAX_GROUP_BYTES} of records (at least one write). */
  #takeGroup(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (
      count < this.#pending.length &&
      (count === 0 || bytes + (this.#pending[count] as Pending).record.length <= MAX_GROUP_BYTES)
    ) {
      bytes += (this.#pending[count] as Pending).record.length;
      count++;
    }
    return this.#pending.splice(0, count);
  }

  /** Writes the next group on the next turn of the event loop, so other work runs between groups. */
  #next(): void {
    if (this.#pending.length === 0) this.#notifyIdle();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#writeGroup());
    }
  }

  #notifyIdle(): void {
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }

  #syncInBackground(): void {
    const wal = this.#target.currentWal();
    if (this.#syncing || !wal.dirty) return;
    wal.sync().catch((error: Error) => this.#target.fail(error));
  }
}
