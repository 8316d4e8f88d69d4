import { readVarint } from './encoding.js';

/** Where a data block lies in its segment file. */
export interface BlockHandle {
  offset: number;
  /** Bytes including the block's crc. */
  length: number;
}

/** The fewest bytes an index entry takes: a one-byte key length, an empty key and two one-byte varints. */
const MIN_ENTRY_BYTES = 3;

/** Scratch for readVarint, so lookups allocate nothing (single-threaded and not reentrant). */
const scratch = { value: 0 };

/**
 * A segment's index block in memory (format in segment-format.ts): the checksummed bytes as read
 * from disk, plus where each entry starts. An open segment's index costs its size on disk plus 4
 * bytes per data block, rather than a Buffer object and three array slots per block, which made a
 * node's memory grow with its data. Keys are compared in place and block handles decoded on demand.
 */
export class SegmentIndex {
  readonly #bytes: Buffer;
  /** Byte position of each entry (its key-length varint) in #bytes; the index's length is a u32. */
  readonly #starts: Uint32Array;

  /**
   * Parses `bytes`, an index block without its crc, for a segment whose data blocks end at
   * `dataEnd`. Structure the checksum cannot vouch for (counts, lengths, handles) is checked here, so
   * no later lookup reads outside the index or the data; `corrupt` is called with what is wrong.
   */
  constructor(bytes: Buffer, dataEnd: number, corrupt: (detail: string) => never) {
    this.#bytes = bytes;
    let at = readVarint(bytes, 0, scratch);
    const count = scratch.value;
    // A damaged count must not size the allocation below: every entry takes a few bytes.
    if (at < 0 || count > (bytes.length - at) / MIN_ENTRY_BYTES) corrupt('index block does not parse');
    this.#starts = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      this.#starts[i] = at;
      at = readVarint(bytes, at, scratch);
      if (at < 0 || at + scratch.value > bytes.length) corrupt(`index entry ${i} does not parse`);
      at = readVarint(bytes, at + scratch.value, scratch);
      const offset = scratch.value;
      if (at >= 0) at = readVarint(bytes, at, scratch);
      if (at < 0) corrupt(`index entry ${i} does not parse`);
      if (scratch.value < 4 || offset + scratch.value > dataEnd) corrupt(`index entry ${i} points outside the data`);
    }
    if (at !== bytes.length) corrupt('index block does not parse');
  }

  /** Number of data blocks. */
  get length(): number {
    return this.#starts.length;
  }

  /** The index of the first block whose last key is `>= key` (length when none). */
  find(key: Buffer): number {
    let low = 0;
    let high = this.#starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const keyStart = readVarint(this.#bytes, this.#starts[middle] as number, scratch);
      if (key.compare(this.#bytes, keyStart, keyStart + scratch.value) > 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Sets `out` to where block `index` (< length) lies. */
  handle(index: number, out: BlockHandle): void {
    const keyStart = readVarint(this.#bytes, this.#starts[index] as number, scratch);
    const at = readVarint(this.#bytes, keyStart + scratch.value, scratch);
    out.offset = scratch.value;
    readVarint(this.#bytes, at, scratch);
    out.length = scratch.value;
  }
}
