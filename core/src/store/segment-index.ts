import type { BlockCache } from './block-cache.js';
import { checksum, readVarint } from './encoding.js';
import { type IndexReader, type IndexSummary, PARTITION_BITS, PARTITION_ENTRIES } from './segment-index-scan.js';

/** Where a data block lies in its segment file. */
export interface BlockHandle {
  offset: number;
  /** Bytes including the block's crc. */
  length: number;
}

/** Scratch for readVarint, so lookups allocate nothing (single-threaded and not reentrant). */
const scratch = { value: 0 };

/**
 * A segment's index block (format in segment-format.ts), paged so that a node's memory does not
 * grow with its data (issue 21): only the summary scanIndex takes at open stays in memory, the last
 * key, place and crc of each partition of 128 entries, a fraction of a byte per data block. A lookup
 * reads its partition back through the store's block cache, where hot partitions stay, and checks it
 * against the crc taken at open.
 *
 * A cached partition is one Buffer: the position of each of its entries (u32 LE), then the entries
 * as on disk, so it is searched in place and all its bytes count against the cache's bound.
 */
export class SegmentIndex {
  readonly #summary: IndexSummary;
  readonly #read: IndexReader;
  readonly #cache: BlockCache;
  readonly #cacheKey: string;
  readonly #corrupt: (detail: string) => never;

  /**
   * The index `summary` describes, its partitions read with `read` when needed and cached in `cache`
   * under keys starting with `cacheKey`; `corrupt` is called when a partition no longer matches.
   */
  constructor(
    summary: IndexSummary,
    read: IndexReader,
    cache: BlockCache,
    cacheKey: string,
    corrupt: (detail: string) => never,
  ) {
    this.#summary = summary;
    this.#read = read;
    this.#cache = cache;
    this.#cacheKey = cacheKey;
    this.#corrupt = corrupt;
  }

  /** Number of data blocks. */
  get length(): number {
    return this.#summary.blocks;
  }

  /** The index of the first block whose last key is `>= key` (length when none). */
  find(key: Buffer): number {
    const { lastKeys, lastKeyStarts, checksums } = this.#summary;
    let low = 0;
    let high = checksums.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareTo(key, lastKeys, lastKeyStarts[middle] as number, lastKeyStarts[middle + 1] as number) > 0) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    if (low === checksums.length) return this.length;
    // The partition's last key is >= key, so the answer lies inside it.
    const partition = this.#partition(low);
    const first = low << PARTITION_BITS;
    low = 0;
    high = Math.min(PARTITION_ENTRIES, this.length - first);
    while (low < high) {
      const middle = (low + high) >>> 1;
      const keyStart = readVarint(partition, partition.readUInt32LE(4 * middle), scratch);
      if (compareTo(key, partition, keyStart, keyStart + scratch.value) > 0) low = middle + 1;
      else high = middle;
    }
    return first + low;
  }

  /** Sets `out` to where block `index` (< length) lies. */
  handle(index: number, out: BlockHandle): void {
    const partition = this.#partition(index >>> PARTITION_BITS);
    const entry = partition.readUInt32LE(4 * (index & (PARTITION_ENTRIES - 1)));
    const keyStart = readVarint(partition, entry, scratch);
    const at = readVarint(partition, keyStart + scratch.value, scratch);
    out.offset = scratch.value;
    readVarint(partition, at, scratch);
    out.length = scratch.value;
  }

  /** Partition `p` in its cached form, read from the file and checked on a miss. */
  #partition(p: number): Buffer {
    const cacheKey = this.#cacheKey + p;
    const cached = this.#cache.get(cacheKey);
    if (cached !== undefined) return cached;
    const start = this.#summary.byteStarts[p] as number;
    const length = (this.#summary.byteStarts[p + 1] as number) - start;
    const entries = Math.min(PARTITION_ENTRIES, this.length - (p << PARTITION_BITS));
    const partition = Buffer.allocUnsafe(4 * entries + length);
    const read = this.#read(partition, 4 * entries, length, start);
    if (read < length || checksum(partition.subarray(4 * entries)) !== this.#summary.checksums[p]) {
      this.#corrupt(`index partition ${p} differs from the index checked at open`);
    }
    // The bytes are those scanned at open, so every varint and key is known to be in bounds.
    let at = 4 * entries;
    for (let j = 0; j < entries; j++) {
      partition.writeUInt32LE(at, 4 * j);
      at = readVarint(partition, at, scratch);
      at = readVarint(partition, at + scratch.value, scratch);
      at = readVarint(partition, at, scratch);
    }
    this.#cache.set(cacheKey, partition);
    return partition;
  }
}

/** Keys up to this long are compared in JavaScript: cheaper than a call into Buffer's native compare. */
const SHORT_KEY_BYTES = 64;

/** `key` compared with `bytes[start, end)`: negative, zero or positive, as Buffer.compare. */
function compareTo(key: Buffer, bytes: Buffer, start: number, end: number): number {
  if (key.length > SHORT_KEY_BYTES || end - start > SHORT_KEY_BYTES) return key.compare(bytes, start, end);
  const shorter = Math.min(key.length, end - start);
  for (let i = 0; i < shorter; i++) {
    const difference = (key[i] as number) - (bytes[start + i] as number);
    if (difference !== 0) return difference;
  }
  return key.length - (end - start);
}
