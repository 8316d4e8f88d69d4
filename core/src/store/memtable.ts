import type { SortedSource } from './merge-cursor.js';

/**
 * The memtable: the newest writes, in memory, ordered by internal key.
 *
 * An in-memory B+tree (leaves of up to 64 entries, linked left to right) orders the keys; a Map
 * beside it answers point lookups and overwrites without descending the tree. A B+tree rather than
 * LevelDB's skip list because in JavaScript it inserts about twice as fast: a few binary searches in
 * small arrays instead of a long chain of pointer hops. Keys are compared as latin1 strings: each
 * byte becomes one UTF-16 unit, so string order is byte order, and V8 compares short strings several
 * times faster than a native Buffer.compare call.
 *
 * A tombstone (a deleted key) is an entry whose value is `undefined`; it must shadow older values in
 * segments until a compaction that includes the oldest segment drops it.
 *
 * Mutation and iteration interleave freely on the one JavaScript thread: a cursor notices that the
 * tree's shape changed under it and finds its place again by key.
 */

const LEAF_CAPACITY = 64;
const INNER_CAPACITY = 64;
/** Per-entry bookkeeping counted towards the flush threshold, beyond key and value bytes. */
const ENTRY_OVERHEAD = 96;

/** One key of the memtable. */
export interface MemtableEntry {
  readonly key: Buffer;
  /** `key` as a latin1 string: the comparison key. */
  readonly order: string;
  value: Buffer | undefined;
}

class Leaf {
  orders: string[] = [];
  entries: MemtableEntry[] = [];
  next: Leaf | undefined;
}

class Inner {
  /** `separators[i]` is the smallest key under `children[i + 1]`. */
  separators: string[] = [];
  children: Array<Leaf | Inner> = [];
}

/** The first index whose element is `>= order` (or `> order` when `after`). */
function search(orders: readonly string[], order: string, after = false): number {
  let low = 0;
  let high = orders.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const probe = orders[middle] as string;
    if (probe < order || (after && probe === order)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** What a lookup found: a value, a tombstone, or nothing. */
export type Lookup = { readonly found: false } | { readonly found: true; readonly value: Buffer | undefined };

const NOT_FOUND: Lookup = { found: false };

export class Memtable {
  readonly #entries = new Map<string, MemtableEntry>();
  #root: Leaf | Inner = new Leaf();
  /** Bumped whenever entries move inside the tree, so cursors know to find their place again. */
  #shape = 0;
  #bytes = 0;
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
    return this.#entries.size;
  }

  /** Sets `key` to `value`, or to a tombstone when `value` is undefined. */
  set(key: Buffer, value: Buffer | undefined): void {
    const order = key.toString('latin1');
    const existing = this.#entries.get(order);
    if (existing !== undefined) {
      this.#bytes += (value?.length ?? 0) - (existing.value?.length ?? 0);
      existing.value = value;
      return;
    }
    const entry: MemtableEntry = { key, order, value };
    this.#entries.set(order, entry);
    this.#bytes += key.length + (value?.length ?? 0) + ENTRY_OVERHEAD;
    this.#insert(entry);
  }

  /** The entry for `key`, if this memtable has one (a tombstone is found, with value undefined). */
  get(key: Buffer): Lookup {
    const entry = this.#entries.get(key.toString('latin1'));
    return entry === undefined ? NOT_FOUND : { found: true, value: entry.value };
  }

  /** A cursor over the entries in key order. */
  cursor(): MemtableCursor {
    return new MemtableCursor(this);
  }

  /** The tree's current shape (see MemtableCursor). */
  get shape(): number {
    return this.#shape;
  }

  /** The leaf and index of the first entry `>= order` (`> order` when `after`). */
  locate(order: string, after: boolean): { leaf: Leaf | undefined; index: number } {
    let node = this.#root;
    while (node instanceof Inner) node = node.children[search(node.separators, order, true)] as Leaf | Inner;
    let leaf: Leaf | undefined = node;
    let index = search(node.orders, order, after);
    while (leaf !== undefined && index >= leaf.orders.length) {
      leaf = leaf.next;
      index = 0;
    }
    return { leaf, index };
  }

  #insert(entry: MemtableEntry): void {
    const path: Array<{ node: Inner; child: number }> = [];
    let node = this.#root;
    while (node instanceof Inner) {
      const child = search(node.separators, entry.order, true);
      path.push({ node, child });
      node = node.children[child] as Leaf | Inner;
    }
    const at = search(node.orders, entry.order);
    node.orders.splice(at, 0, entry.order);
    node.entries.splice(at, 0, entry);
    this.#shape++;
    if (node.orders.length <= LEAF_CAPACITY) return;

    const right = new Leaf();
    right.orders = node.orders.splice(LEAF_CAPACITY / 2);
    right.entries = node.entries.splice(LEAF_CAPACITY / 2);
    right.next = node.next;
    node.next = right;
    let separator = right.orders[0] as string;
    let added: Leaf | Inner = right;
    for (let step = path.pop(); step !== undefined; step = path.pop()) {
      const parent = step.node;
      parent.separators.splice(step.child, 0, separator);
      parent.children.splice(step.child + 1, 0, added);
      if (parent.separators.length <= INNER_CAPACITY) return;
      const half = INNER_CAPACITY / 2;
      const sibling = new Inner();
      separator = parent.separators[half] as string;
      sibling.separators = parent.separators.splice(half + 1);
      parent.separators.length = half;
      sibling.children = parent.children.splice(half + 1);
      added = sibling;
    }
    const root = new Inner();
    root.separators = [separator];
    root.children = [this.#root, added];
    this.#root = root;
  }
}

/**
 * Walks a memtable in key order. Entries may be inserted between steps: when the tree's shape
 * changed since the last step, the cursor finds its place again from the last key it returned, so it
 * never repeats or skips a key that was there all along.
 */
export class MemtableCursor implements SortedSource {
  readonly #memtable: Memtable;
  #leaf: Leaf | undefined;
  #index = 0;
  #shape = -1;
  #entry: MemtableEntry | undefined;

  constructor(memtable: Memtable) {
    this.#memtable = memtable;
  }

  get valid(): boolean {
    return this.#entry !== undefined;
  }

  get key(): Buffer {
    return (this.#entry as MemtableEntry).key;
  }

  get value(): Buffer | undefined {
    return (this.#entry as MemtableEntry).value;
  }

  seek(key: Buffer | undefined): void {
    this.#moveTo(key === undefined ? '' : key.toString('latin1'), false);
  }

  next(): void {
    const current = this.#entry;
    if (current === undefined) return;
    if (this.#shape !== this.#memtable.shape) {
      this.#moveTo(current.order, true);
      return;
    }
    this.#index++;
    while (this.#leaf !== undefined && this.#index >= this.#leaf.entries.length) {
      this.#leaf = this.#leaf.next;
      this.#index = 0;
    }
    this.#entry = this.#leaf?.entries[this.#index];
  }

  #moveTo(order: string, after: boolean): void {
    const { leaf, index } = this.#memtable.locate(order, after);
    this.#leaf = leaf;
    this.#index = index;
    this.#shape = this.#memtable.shape;
    this.#entry = leaf?.entries[index];
  }
}
