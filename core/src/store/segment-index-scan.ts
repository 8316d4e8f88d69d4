import { crc32 } from 'node:zlib';
import { checksum, readVarint } from './encoding.js';

/**
 * Reads up to `length` bytes from byte `start` of the index block (its crc included) into `into` at
 * `offset`, as the segment file holds them now; returns how many it read, fewer at the file's end.
 */
export type IndexReader = (into: Uint8Array, offset: number, length: number, start: number) => number;

/** Index entries per partition, a power of two: ~4 KiB of index for 16-byte keys, one read. */
export const PARTITION_BITS = 7;
export const PARTITION_ENTRIES = 1 << PARTITION_BITS;

/** What stays in memory of an index block: per partition its bytes' place and crc, and its last key. */
export interface IndexSummary {
  /** Number of data blocks. */
  readonly blocks: number;
  /** Partition p is bytes [byteStarts[p], byteStarts[p + 1]) of the index block. */
  readonly byteStarts: Uint32Array;
  /** The CRC-32 of each partition's bytes. */
  readonly checksums: Uint32Array;
  /** The partitions' last keys end to end: partition p's is [lastKeyStarts[p], lastKeyStarts[p + 1]). */
  readonly lastKeys: Buffer;
  readonly lastKeyStarts: Uint32Array;
}

/** Bytes read at a time; a partition longer than this (keys of kilobytes) widens the window. */
const WINDOW_BYTES = 64 * 1024;

/** The fewest bytes an index entry takes: a one-byte key length, an empty key and two one-byte varints. */
const MIN_ENTRY_BYTES = 3;

/** The longest varint readVarint accepts. */
const VARINT_BYTES = 8;

/** Scratch for readVarint (single-threaded and not reentrant). */
const scratch = { value: 0 };

/**
 * Reads and checks an index block of `length` bytes (crc included) front to back through a window of
 * 64 KiB, so opening a segment never holds its whole index: read whole (9 MiB per GiB of 4.5 KiB
 * objects) and freed at once, it stayed in the process's RSS, which glibc does not give back.
 * Structure the checksum cannot vouch for (counts, lengths, block handles inside the `dataEnd` bytes
 * of data) is checked too, so no later lookup reads outside the index or the data; `corrupt` is
 * called with what is wrong, a checksum mismatch first when the bytes are damaged.
 */
export function scanIndex(
  read: IndexReader,
  length: number,
  dataEnd: number,
  corrupt: (detail: string) => never,
): IndexSummary {
  const window = new IndexWindow(read, length - 4, corrupt);
  const trailer = Buffer.alloc(4);
  const checked = () => {
    window.drain();
    if (read(trailer, 0, 4, length - 4) < 4) corrupt('index is truncated');
    if (window.checksum !== trailer.readUInt32LE(0)) corrupt('index checksum mismatch');
  };
  // A damaged index reports its checksum first: a structure error is only news when the bytes are intact.
  const fail = (detail: string): never => {
    checked();
    return corrupt(detail);
  };
  window.load(0, 0, VARINT_BYTES);
  let at = readVarint(window.bytes, 0, scratch);
  const blocks = scratch.value;
  // A damaged count must not size the allocations below: every entry takes a few bytes.
  if (at < 0 || blocks > (length - 4 - at) / MIN_ENTRY_BYTES) fail('index block does not parse');
  const partitions = Math.ceil(blocks / PARTITION_ENTRIES);
  const byteStarts = new Uint32Array(partitions + 1);
  const checksums = new Uint32Array(partitions);
  const lastKeyStarts = new Uint32Array(partitions + 1);
  let lastKeys = Buffer.alloc(Math.min(1024, length));
  for (let i = 0; i < blocks; i++) {
    const p = i >>> PARTITION_BITS;
    if ((i & (PARTITION_ENTRIES - 1)) === 0) byteStarts[p] = at;
    const partitionStart = byteStarts[p] as number;
    window.load(partitionStart, at, VARINT_BYTES);
    const keyStart = readVarint(window.bytes, at - window.start, scratch) + window.start;
    const keyLength = scratch.value;
    if (keyStart < window.start || keyStart + keyLength > length - 4) fail(`index entry ${i} does not parse`);
    window.load(partitionStart, at, keyStart - at + keyLength + 2 * VARINT_BYTES);
    at = readVarint(window.bytes, keyStart + keyLength - window.start, scratch);
    const offset = scratch.value;
    if (at >= 0) at = readVarint(window.bytes, at, scratch);
    if (at < 0) fail(`index entry ${i} does not parse`);
    at += window.start;
    if (scratch.value < 4 || offset + scratch.value > dataEnd) fail(`index entry ${i} points outside the data`);
    if ((i & (PARTITION_ENTRIES - 1)) === PARTITION_ENTRIES - 1 || i === blocks - 1) {
      byteStarts[p + 1] = at;
      checksums[p] = checksum(window.bytes.subarray(partitionStart - window.start, at - window.start));
      const keyAt = lastKeyStarts[p] as number;
      if (keyAt + keyLength > lastKeys.length) {
        const grown = Buffer.alloc(Math.max(2 * lastKeys.length, keyAt + keyLength));
        lastKeys.copy(grown, 0, 0, keyAt);
        lastKeys = grown;
      }
      window.bytes.copy(lastKeys, keyAt, keyStart - window.start, keyStart + keyLength - window.start);
      lastKeyStarts[p + 1] = keyAt + keyLength;
    }
  }
  if (at !== length - 4) fail('index block does not parse');
  checked();
  // Its own allocation, sized exactly: the growing one above is mostly slack.
  const keys = Buffer.alloc(lastKeyStarts[partitions] as number);
  lastKeys.copy(keys, 0, 0, keys.length);
  return { blocks, byteStarts, checksums, lastKeys: keys, lastKeyStarts };
}

/**
 * A window onto the index block's bytes, read forward, with the CRC-32 of every byte read so far
 * (zlib's crc32 continued piece by piece: encoding.ts's checksum of the whole).
 */
class IndexWindow {
  /** Bytes [start, start + bytes.length) of the index block. */
  bytes: Buffer = Buffer.alloc(0);
  start = 0;
  checksum = 0;
  readonly #read: IndexReader;
  /** Bytes of the block before its crc. */
  readonly #end: number;
  readonly #corrupt: (detail: string) => never;
  #buffer: Buffer;

  constructor(read: IndexReader, end: number, corrupt: (detail: string) => never) {
    this.#read = read;
    this.#end = end;
    this.#corrupt = corrupt;
    this.#buffer = Buffer.allocUnsafe(Math.min(WINDOW_BYTES, Math.max(end, 1)));
  }

  /** Makes bytes [at, at + n) available (fewer at the end), keeping those from `keep` (<= at) on. */
  load(keep: number, at: number, n: number): void {
    const want = Math.min(at + n, this.#end);
    const loaded = this.start + this.bytes.length;
    if (want <= loaded) return;
    const kept = loaded - keep;
    if (want - keep > this.#buffer.length) {
      const wider = Buffer.allocUnsafe(Math.max(2 * this.#buffer.length, want - keep));
      this.bytes.copy(wider, 0, keep - this.start);
      this.#buffer = wider;
    } else {
      this.bytes.copy(this.#buffer, 0, keep - this.start);
    }
    const length = Math.min(this.#buffer.length, this.#end - keep) - kept;
    if (this.#read(this.#buffer, kept, length, loaded) < length) this.#corrupt('index is truncated');
    this.checksum = crc32(this.#buffer.subarray(kept, kept + length), this.checksum);
    this.start = keep;
    this.bytes = this.#buffer.subarray(0, kept + length);
  }

  /** Reads the rest of the block, for its checksum. */
  drain(): void {
    while (this.start + this.bytes.length < this.#end) {
      const loaded = this.start + this.bytes.length;
      this.load(loaded, loaded, this.#buffer.length);
    }
  }
}
