import { join } from 'node:path';
import { BloomFilterBuilder } from './bloom.js';
import { checksum, varintLength, writeVarint } from './encoding.js';
import { temporaryFileName } from './filenames.js';
import { type StoreFs, syncDirectory, writeFully } from './vfs.js';

/**
 * The segment file: an immutable, sorted run of entries, written once to a temporary name and
 * renamed into place.
 *
 * ```
 * +--------------+-----+----------------+-------------+--------------+--------------+
 * | data block 0 | ... | data block n-1 | index block | bloom filter | footer (48 B)|
 * +--------------+-----+----------------+-------------+--------------+--------------+
 *
 * data block:  entries, then crc32 u32 LE of the entries. Blocks close once they pass 4 KiB.
 *   entry:     kind u8 (ENTRY_VALUE | ENTRY_TOMBSTONE), keyLen varint, [valueLen varint], key, [value]
 *              (internal keys, strictly ascending across the file)
 * index block: count varint, then per data block: lastKeyLen varint, last key, offset varint,
 *              length varint (bytes including its crc); then crc32 u32 LE
 * bloom:       see bloom.ts; then crc32 u32 LE
 * footer:      0 u64 index offset | 8 u32 index length | 12 u64 bloom offset | 20 u32 bloom length |
 *              24 u64 entry count | 32 u32 format version | 36 u32 reserved (0) |
 *              40 u32 crc32 of bytes 0..39 | 44 u32 magic
 * ```
 *
 * Part of the on-disk format: constants never change meaning; a new layout gets a new version.
 */
export const SEGMENT_MAGIC = 0x5354_5347; // "GSTS" little-endian: STrata SeGment
export const SEGMENT_FORMAT_VERSION = 1;
export const FOOTER_BYTES = 48;
export const BLOCK_TARGET_BYTES = 4096;
export const ENTRY_VALUE = 1;
export const ENTRY_TOMBSTONE = 2;

/** Bytes buffered before a write call. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

/** The most bytes an entry's kind and two varints take. */
const ENTRY_HEADER_MAX = 1 + 8 + 8;

/**
 * Writes a segment to an open file. Entries must come in strictly ascending key order. Entries are
 * encoded straight into a reusable block buffer and blocks into a 1 MiB output buffer, so adding an
 * entry allocates nothing. Not reentrant; one writer per file.
 */
export class SegmentWriter {
  readonly #fs: StoreFs;
  readonly #fd: number;
  readonly #bloom = new BloomFilterBuilder();
  readonly #index: Array<{ key: Buffer; offset: number; length: number }> = [];
  #block = Buffer.allocUnsafe(2 * BLOCK_TARGET_BYTES);
  #blockLength = 0;
  /** Where the block's last key lies in `#block`: copied, as callers may reuse the key's memory. */
  #lastKeyStart = 0;
  #lastKeyEnd = 0;
  readonly #output = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  #outputLength = 0;
  /** File offset of the output buffer's first byte. */
  #flushed = 0;
  #entries = 0;

  constructor(fs: StoreFs, fd: number) {
    this.#fs = fs;
    this.#fd = fd;
  }

  /** Number of entries added. */
  get entries(): number {
    return this.#entries;
  }

  /** Adds an entry; `value` undefined writes a tombstone. */
  add(key: Buffer, value: Buffer | undefined): void {
    const needed = ENTRY_HEADER_MAX + key.length + (value?.length ?? 0);
    if (this.#blockLength + needed > this.#block.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.#block.length, this.#blockLength + needed));
      this.#block.copy(grown, 0, 0, this.#blockLength);
      this.#block = grown;
    }
    const block = this.#block;
    let at = this.#blockLength;
    block[at++] = value === undefined ? ENTRY_TOMBSTONE : ENTRY_VALUE;
    at = writeVarint(block, at, key.length);
    if (value !== undefined) at = writeVarint(block, at, value.length);
    this.#lastKeyStart = at;
    at += key.copy(block, at);
    this.#lastKeyEnd = at;
    if (value !== undefined) at += value.copy(block, at);
    this.#blockLength = at;
    this.#bloom.add(key);
    this.#entries++;
    if (at >= BLOCK_TARGET_BYTES) this.#closeBlock();
  }

  /** Writes the last block, index, bloom filter and footer, and fsyncs. Returns the file's size. */
  finish(): number {
    this.#closeBlock();
    const indexOffset = this.#offset;
    const index = withChecksum(this.#encodeIndex());
    this.#emit(index, index.length);
    const bloomOffset = this.#offset;
    const bloom = withChecksum(this.#bloom.finish());
    this.#emit(bloom, bloom.length);
    const footer = Buffer.alloc(FOOTER_BYTES);
    footer.writeBigUInt64LE(BigInt(indexOffset), 0);
    footer.writeUInt32LE(index.length, 8);
    footer.writeBigUInt64LE(BigInt(bloomOffset), 12);
    footer.writeUInt32LE(bloom.length, 20);
    footer.writeBigUInt64LE(BigInt(this.#entries), 24);
    footer.writeUInt32LE(SEGMENT_FORMAT_VERSION, 32);
    footer.writeUInt32LE(checksum(footer.subarray(0, 40)), 40);
    footer.writeUInt32LE(SEGMENT_MAGIC, 44);
    this.#emit(footer, footer.length);
    this.#writeOutput();
    this.#fs.fsyncSync(this.#fd);
    return this.#offset;
  }

  /** Bytes written or buffered so far: the next block's file offset. */
  get #offset(): number {
    return this.#flushed + this.#outputLength;
  }

  #closeBlock(): void {
    if (this.#blockLength === 0) return;
    const body = this.#block.subarray(0, this.#blockLength);
    const crc = checksum(body);
    const lastKey = Buffer.from(body.subarray(this.#lastKeyStart, this.#lastKeyEnd));
    this.#index.push({ key: lastKey, offset: this.#offset, length: body.length + 4 });
    this.#emit(body, body.length);
    const trailer = Buffer.allocUnsafe(4);
    trailer.writeUInt32LE(crc, 0);
    this.#emit(trailer, 4);
    this.#blockLength = 0;
  }

  #encodeIndex(): Buffer {
    let length = varintLength(this.#index.length);
    for (const { key, offset, length: size } of this.#index) {
      length += varintLength(key.length) + key.length + varintLength(offset) + varintLength(size);
    }
    const index = Buffer.allocUnsafe(length);
    let at = writeVarint(index, 0, this.#index.length);
    for (const { key, offset, length: size } of this.#index) {
      at = writeVarint(index, at, key.length);
      at += key.copy(index, at);
      at = writeVarint(index, at, offset);
      at = writeVarint(index, at, size);
    }
    return index;
  }

  /** Copies `bytes[0, length)` into the output buffer, writing it to the file whenever it fills. */
  #emit(bytes: Buffer, length: number): void {
    for (let copied = 0; copied < length; ) {
      if (this.#outputLength === this.#output.length) this.#writeOutput();
      const n = bytes.copy(this.#output, this.#outputLength, copied, length);
      this.#outputLength += n;
      copied += n;
    }
  }

  #writeOutput(): void {
    if (this.#outputLength === 0) return;
    writeFully(this.#fs, this.#fd, this.#output.subarray(0, this.#outputLength), this.#flushed);
    this.#flushed += this.#outputLength;
    this.#outputLength = 0;
  }
}

/** `body` followed by its crc32. */
function withChecksum(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length + 4);
  body.copy(out, 0);
  out.writeUInt32LE(checksum(body), body.length);
  return out;
}

/** An entry as segments store it: `value` undefined is a tombstone. */
export interface SegmentEntry {
  readonly key: Buffer;
  readonly value: Buffer | undefined;
}

/** Lets a long job give way to other work: a no-op in a worker thread, a macrotask turn inline. */
export type Yield = () => Promise<void>;

/** Entries written between two calls of the job's `Yield`. */
const ENTRIES_PER_YIELD = 2048;

/**
 * Writes `entries` as segment `name` in `dir`: to a temporary file, fsynced, then renamed into place
 * and the directory fsynced, so the segment appears whole or not at all. The rename is the moment
 * the segment becomes part of the store. On failure or abort the temporary file is removed.
 */
export async function writeSegmentFile(
  fs: StoreFs,
  dir: string,
  name: string,
  entries: Iterable<SegmentEntry>,
  pause: Yield,
  signal?: AbortSignal,
): Promise<{ size: number; entries: number }> {
  const temporary = join(dir, temporaryFileName(name));
  const fd = fs.openSync(temporary, 'w');
  let size: number;
  let count: number;
  try {
    const writer = new SegmentWriter(fs, fd);
    for (const { key, value } of entries) {
      writer.add(key, value);
      if (writer.entries % ENTRIES_PER_YIELD === 0) {
        await pause();
        signal?.throwIfAborted();
      }
    }
    size = writer.finish();
    count = writer.entries;
  } catch (error) {
    fs.closeSync(fd);
    fs.unlinkSync(temporary);
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(temporary, join(dir, name));
  syncDirectory(fs, dir);
  return { size, entries: count };
}
