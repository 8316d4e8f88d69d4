/**
 * The memtable: the newest writes, in memory, ordered by internal key. A skip list (as LevelDB's),
 * because it stays ordered under inserts without rebalancing and a cursor walking it is never
 * invalidated by an insert: new nodes are fully linked before they become reachable.
 *
 * A tombstone (a deleted key) is an entry whose value is `undefined`; it must shadow older values in
 * segments until a compaction that includes the oldest segment drops it.
 *
 * Not safe for concurrent mutation, which JavaScript's single thread rules out; safe to read and
 * iterate while writes are applied between steps.
 */

const MAX_HEIGHT = 12;
/** Per-entry bookkeeping counted towards the flush threshold, beyond key and value bytes. */
const ENTRY_OVERHEAD = 64;

/** One entry of the skip list. */
export class MemtableNode {
  readonly key: Buffer;
  value: Buffer | undefined;
  readonly next: Array<MemtableNode | undefined>;

  constructor(key: Buffer, value: Buffer | undefined, height: number) {
    this.key = key;
    this.value = value;
    this.next = new Array(height).fill(undefined);
  }
}

/** What a lookup found: a value, a tombstone, or nothing. */
export type Lookup = { readonly found: false } | { readonly found: true; readonly value: Buffer | undefined };

const NOT_FOUND: Lookup = { found: false };

export class Memtable {
  readonly #head = new MemtableNode(Buffer.alloc(0), undefined, MAX_HEIGHT);
  #height = 1;
  #bytes = 0;
  #count = 0;
  #random = 0x2545f491;
  /** The WAL whose records this memtable holds. */
  readonly walNumber: number;

  constructor(walNumber: number) {
    this.walNumber = walNumber;
  }

  /** Approximate memory held, in bytes: what the flush threshold is compared with. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of distinct keys (tombstones included). */
  get count(): number {
    return this.#count;
  }

  /** Sets `key` to `value`, or to a tombstone when `value` is undefined. */
  set(key: Buffer, value: Buffer | undefined): void {
    const update = new Array<MemtableNode>(MAX_HEIGHT);
    let node = this.#head;
    for (let level = this.#height - 1; level >= 0; level--) {
      for (
        let next = node.next[level];
        next !== undefined && Buffer.compare(next.key, key) < 0;
        next = node.next[level]
      ) {
        node = next;
      }
      update[level] = node;
    }
    const found = node.next[0];
    if (found?.key.equals(key)) {
      this.#bytes += (value?.length ?? 0) - (found.value?.length ?? 0);
      found.value = value;
      return;
    }
    const height = this.#randomHeight();
    for (let level = this.#height; level < height; level++) update[level] = this.#head;
    this.#height = Math.max(this.#height, height);
    const inserted = new MemtableNode(key, value, height);
    for (let level = 0; level < height; level++) {
      const before = update[level] as MemtableNode;
      inserted.next[level] = before.next[level];
      before.next[level] = inserted;
    }
    this.#count++;
    this.#bytes += key.length + (value?.length ?? 0) + ENTRY_OVERHEAD;
  }

  /** The entry for `key`, if this memtable has one (a tombstone is found, with value undefined). */
  get(key: Buffer): Lookup {
    const node = this.seek(key);
    return node?.key.equals(key) ? { found: true, value: node.value } : NOT_FOUND;
  }

  /** The first node whose key is `>= key`. */
  seek(key: Buffer): MemtableNode | undefined {
    let node = this.#head;
    for (let level = this.#height - 1; level >= 0; level--) {
      for (
        let next = node.next[level];
        next !== undefined && Buffer.compare(next.key, key) < 0;
        next = node.next[level]
      ) {
        node = next;
      }
    }
    return node.next[0];
  }

  /** The first node. */
  first(): MemtableNode | undefined {
    return this.#head.next[0];
  }

  /** Heights 1..MAX_HEIGHT with probability 1/4 of each extra level (xorshift, no Math.random cost). */
  #randomHeight(): number {
    let height = 1;
    while (height < MAX_HEIGHT) {
      this.#random ^= this.#random << 13;
      this.#random ^= this.#random >>> 17;
      this.#random ^= this.#random << 5;
      if ((this.#random & 3) !== 0) break;
      height++;
    }
    return height;
  }
}
