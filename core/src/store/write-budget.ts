/** What a {@link WriteBudget} sees of a store. */
export interface BudgetedStore {
  /** Bytes of the store's active memtable. */
  activeBytes(): number;
  /** Bytes of its frozen memtables whose flush has not completed. */
  frozenBytes(): number;
  /** Freezes the active memtable and starts its flush. */
  rotate(): void;
}

/**
 * A bound on the memtable memory of several stores together (RocksDB's WriteBufferManager), so that
 * a node's memory does not grow with its number of shards. Stores register when they open and
 * unregister when they close or fail; each store's own `memtableBytes` limit still applies.
 *
 * Once the registered memtables (active, and frozen until their flush completes) hold the budget, the
 * largest active memtable is rotated, whichever store holds it: the writes of many small shards do
 * not each flush a tiny segment. A rotation only happens while at least half the budget is in active
 * memtables; otherwise enough is already being flushed, and rotating more would only make smaller
 * segments. Writers wait as without a budget: when their store has two memtables waiting to be flushed.
 */
export class WriteBudget {
  /** The bound, in bytes. */
  readonly bytes: number;
  readonly #stores = new Set<BudgetedStore>();

  /** @throws RangeError unless `bytes` is a positive integer. */
  constructor(bytes: number) {
    if (!Number.isSafeInteger(bytes) || bytes <= 0)
      throw new RangeError(`a write budget is a positive integer number of bytes, not ${bytes}`);
    this.bytes = bytes;
  }

  register(store: BudgetedStore): void {
    this.#stores.add(store);
  }

  /** Stops counting `store`; does nothing if it is not registered. */
  unregister(store: BudgetedStore): void {
    this.#stores.delete(store);
  }

  /** Bytes the registered stores' memtables hold now. */
  get usedBytes(): number {
    let used = 0;
    for (const store of this.#stores) used += store.activeBytes() + store.frozenBytes();
    return used;
  }

  /** Rotates the largest active memtable if the budget is used up (see above). Called after writes. */
  enforce(): void {
    let active = 0;
    let frozen = 0;
    let largest: BudgetedStore | undefined;
    let largestBytes = 0;
    for (const store of this.#stores) {
      const bytes = store.activeBytes();
      active += bytes;
      frozen += store.frozenBytes();
      if (bytes > largestBytes) {
        largest = store;
        largestBytes = bytes;
      }
    }
    if (largest !== undefined && active + frozen >= this.bytes && active * 2 >= this.bytes) largest.rotate();
  }
}
