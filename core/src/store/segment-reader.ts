import { join } from 'node:path';
import { CorruptionError } from '../errors.js';
import type { BlockCache } from './block-cache.js';
import { BloomFilter } from './bloom.js';
import { checksum, readVarint } from './encoding.js';
import type { Lookup } from './memtable.js';
import { ENTRY_TOMBSTONE, ENTRY_VALUE, FOOTER_BYTES, SEGMENT_FORMAT_VERSION, SEGMENT_MAGIC } from './segment-format.js';
import { type BlockHandle, SegmentIndex } from './segment-index.js';
import { type IndexReader, scanIndex } from './segment-index-scan.js';
import { readFully, type StoreFs } from './vfs.js';

let nextUid = 1;
const NOT_FOUND: Lookup = { found: false };
/** Bytes a sequential read takes at once: dozens of 4 KiB blocks per call, into one reused buffer. */
const READ_AHEAD_BYTES = 256 * 1024;

/** Where an entry lies inside a block. */
interface EntryBounds {
  kind: number;
  keyStart: number;
  keyEnd: number;
  valueEnd: number;
}

/**
 * An open segment: its bloom filter and the top of its index (segment-index.ts) in memory, data
 * blocks and index partitions read on demand through the shared block cache and verified against
 * their checksums. Reads are synchronous positional reads (page-cache speed). Reference-counted: a
 * cursor holds a reference so a compaction that replaces the segment does not close the file under
 * it.
 */
export class SegmentReader {
  readonly name: string;
  readonly lo: number;
  readonly hi: number;
  readonly size: number;
  readonly entryCount: number;
  readonly #fs: StoreFs;
  readonly #fd: number;
  readonly #uid = nextUid++;
  readonly #cache: BlockCache;
  readonly #bloom: BloomFilter;
  readonly #index: SegmentIndex;
  /** Scratch for block(), which allocates nothing beyond the block it reads. */
  readonly #handle: BlockHandle = { offset: 0, length: 0 };
  #refs = 1;

  private constructor(fs: StoreFs, fd: number, name: string, range: [number, number], size: number, cache: BlockCache) {
    this.#fs = fs;
    this.#fd = fd;
    this.name = name;
    [this.lo, this.hi] = range;
    this.size = size;
    this.#cache = cache;
    if (size < FOOTER_BYTES) this.#corrupt(`${size} bytes is too short for a segment`);
    const footer = readFully(fs, fd, FOOTER_BYTES, size - FOOTER_BYTES);
    if (footer.readUInt32LE(44) !== SEGMENT_MAGIC) this.#corrupt('no segment footer (bad magic number)');
    if (checksum(footer.subarray(0, 40)) !== footer.readUInt32LE(40)) this.#corrupt('footer checksum mismatch');
    const version = footer.readUInt32LE(32);
    if (version !== SEGMENT_FORMAT_VERSION) this.#corrupt(`unsupported segment format version ${version}`);
    this.entryCount = Number(footer.readBigUInt64LE(24));
    const indexOffset = Number(footer.readBigUInt64LE(0));
    const indexLength = footer.readUInt32LE(8);
    if (indexLength < 4 || indexOffset + indexLength > size) this.#corrupt('index lies outside the file');
    const readIndex: IndexReader = (into, offset, length, start) =>
      readInto(fs, fd, into, offset, length, indexOffset + start);
    const corrupt = (detail: string) => this.#corrupt(detail);
    const summary = scanIndex(readIndex, indexLength, indexOffset, corrupt);
    // Partitions are cached beside the data blocks' `${uid}.${block}` keys, never equal to one.
    this.#index = new SegmentIndex(summary, readIndex, cache, `${this.#uid}.i`, corrupt);
    this.#bloom = new BloomFilter(
      this.#readChecked(Number(footer.readBigUInt64LE(12)), footer.readUInt32LE(20), 'bloom'),
    );
  }

  /** Opens and verifies segment `name` (covering WALs `range`) in `dir`. */
  static open(fs: StoreFs, dir: string, name: string, range: [number, number], cache: BlockCache): SegmentReader {
    const fd = fs.openSync(join(dir, name), 'r');
    try {
      return new SegmentReader(fs, fd, name, range, fs.fstatSync(fd).size, cache);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  /** Number of data blocks. */
  get blockCount(): number {
    return this.#index.length;
  }

  /** The entry for `key`, if this segment has one. */
  get(key: Buffer): Lookup {
    if (!this.#bloom.mayContain(key)) return NOT_FOUND;
    const blockIndex = this.findBlock(key);
    if (blockIndex === this.#index.length) return NOT_FOUND;
    const block = this.block(blockIndex);
    const bounds: EntryBounds = { kind: 0, keyStart: 0, keyEnd: 0, valueEnd: 0 };
    for (let at = 0; at < block.length; at = bounds.valueEnd) {
      this.#entryAt(block, at, bounds, blockIndex);
      const order = key.compare(block, bounds.keyStart, bounds.keyEnd);
      if (order === 0) {
        return {
          found: true,
          value: bounds.kind === ENTRY_TOMBSTONE ? undefined : block.subarray(bounds.keyEnd, bounds.valueEnd),
        };
      }
      if (order < 0) break;
    }
    return NOT_FOUND;
  }

  /** The index of the first block whose last key is `>= key` (blockCount when none). */
  findBlock(key: Buffer): number {
    return this.#index.find(key);
  }

  /** Data block `index` (< blockCount), without its checksum, verified. */
  block(index: number): Buffer {
    const cacheKey = `${this.#uid}.${index}`;
    const cached = this.#cache.get(cacheKey);
    if (cached !== undefined) return cached;
    if (!(index >= 0 && index < this.#index.length)) throw new RangeError(`no data block ${index} in ${this.name}`);
    this.#index.handle(index, this.#handle);
    const block = this.#readChecked(this.#handle.offset, this.#handle.length, `data block ${index}`);
    this.#cache.set(cacheKey, block);
    return block;
  }

  /**
   * Data blocks for a single pass from front to back (a compaction), read many per call into one
   * reused buffer and verified, never cached: the pass allocates nothing per block, so its memory
   * stays flat whatever the segment's size. A block returned is valid until the function is asked
   * for a block past the ones read with it; copy what must outlive that.
   */
  sequentialBlocks(): (index: number) => Buffer {
    let buffer = Buffer.allocUnsafe(READ_AHEAD_BYTES);
    /** The blocks in `buffer`: [first, first + ends.length), block i ending at ends[i - first]. */
    let first = 0;
    const ends: number[] = [];
    const handle: BlockHandle = { offset: 0, length: 0 };
    return (index) => {
      if (!(index >= 0 && index < this.#index.length)) throw new RangeError(`no data block ${index} in ${this.name}`);
      if (index < first || index >= first + ends.length) {
        this.#index.handle(index, handle);
        const start = handle.offset;
        this.#checkBounds(handle, `data block ${index}`);
        first = index;
        ends.length = 0;
        ends.push(handle.length);
        for (let next = index + 1; next < this.#index.length; next++) {
          this.#index.handle(next, handle);
          // Only blocks that follow each other in the file share a read (Strata writes no other
          // layout, but a segment restored from a backup is read as it is).
          if (handle.offset !== start + (ends[ends.length - 1] as number)) break;
          if (handle.offset + handle.length - start > buffer.length) break;
          this.#checkBounds(handle, `data block ${next}`);
          ends.push(handle.offset + handle.length - start);
        }
        const span = ends[ends.length - 1] as number;
        if (span > buffer.length) buffer = Buffer.allocUnsafe(span); // one block larger than the buffer
        if (readInto(this.#fs, this.#fd, buffer, 0, span, start) < span)
          this.#corrupt(`data block ${index} is truncated`);
      }
      const at = index - first;
      const begin = at === 0 ? 0 : (ends[at - 1] as number);
      return this.#verified(buffer.subarray(begin, ends[at]), `data block ${index}`);
    };
  }

  /** Decodes the entry at `offset` of `block` into `bounds`. */
  entryAt(block: Buffer, offset: number, bounds: EntryBounds, blockIndex: number): void {
    this.#entryAt(block, offset, bounds, blockIndex);
  }

  ref(): void {
    this.#refs++;
  }

  /** Drops a reference; the file closes with the last one. */
  unref(): void {
    // Asynchronous: a compaction's inputs are deleted while open, so this last close frees their
    // blocks, which held the event loop for 40 ms on a 60 MB segment. Nothing reads the fd after.
    if (--this.#refs === 0) this.#fs.close(this.#fd, () => {});
  }

  #entryAt(block: Buffer, offset: number, bounds: EntryBounds, blockIndex: number): void {
    const n = { value: 0 };
    const kind = block[offset] as number;
    let at = readVarint(block, offset + 1, n);
    const keyLength = n.value;
    let valueLength = 0;
    if (kind === ENTRY_VALUE && at >= 0) {
      at = readVarint(block, at, n);
      valueLength = n.value;
    }
    if (at < 0 || (kind !== ENTRY_VALUE && kind !== ENTRY_TOMBSTONE) || at + keyLength + valueLength > block.length) {
      this.#corrupt(`malformed entry at byte ${offset} of data block ${blockIndex}`);
    }
    bounds.kind = kind;
    bounds.keyStart = at;
    bounds.keyEnd = at + keyLength;
    bounds.valueEnd = at + keyLength + valueLength;
  }

  #readChecked(offset: number, length: number, what: string): Buffer {
    this.#checkBounds({ offset, length }, what);
    const bytes = readFully(this.#fs, this.#fd, length, offset);
    if (bytes.length < length) this.#corrupt(`${what} is truncated`);
    return this.#verified(bytes, what);
  }

  #checkBounds({ offset, length }: BlockHandle, what: string): void {
    if (length < 4 || offset + length > this.size) this.#corrupt(`${what} lies outside the file`);
  }

  /** `bytes` without its trailing crc32, once the crc matches. */
  #verified(bytes: Buffer, what: string): Buffer {
    const body = bytes.subarray(0, bytes.length - 4);
    if (checksum(body) !== bytes.readUInt32LE(bytes.length - 4)) this.#corrupt(`${what} checksum mismatch`);
    return body;
  }

  #corrupt(detail: string): never {
    throw new CorruptionError(this.name, detail);
  }
}

/** A position in a segment, moving forward entry by entry. */
export class SegmentCursor {
  readonly #segment: SegmentReader;
  readonly #blocks: (index: number) => Buffer;
  #blockIndex = 0;
  #block: Buffer | undefined;
  readonly #bounds: EntryBounds = { kind: 0, keyStart: 0, keyEnd: 0, valueEnd: 0 };

  /**
   * A cursor reading `segment`'s blocks with `blocks`: by default through the block cache, where
   * its keys and values stay valid; with {@link SegmentReader.sequentialBlocks}, only until the
   * cursor moves past the blocks read with theirs.
   */
  constructor(segment: SegmentReader, blocks: (index: number) => Buffer = (index) => segment.block(index)) {
    this.#segment = segment;
    this.#blocks = blocks;
  }

  /** True while positioned on an entry. */
  get valid(): boolean {
    return this.#block !== undefined;
  }

  /** The current entry's key (a view into the block: copy it to keep it). */
  get key(): Buffer {
    return (this.#block as Buffer).subarray(this.#bounds.keyStart, this.#bounds.keyEnd);
  }

  /** The current entry's value, or undefined for a tombstone. */
  get value(): Buffer | undefined {
    if (this.#bounds.kind === ENTRY_TOMBSTONE) return undefined;
    return (this.#block as Buffer).subarray(this.#bounds.keyEnd, this.#bounds.valueEnd);
  }

  /** Positions on the first entry whose key is `>= key` (the first entry when key is undefined). */
  seek(key: Buffer | undefined): void {
    this.#blockIndex = key === undefined ? 0 : this.#segment.findBlock(key);
    this.#load();
    if (key === undefined) return;
    while (this.#block !== undefined && key.compare(this.#block, this.#bounds.keyStart, this.#bounds.keyEnd) > 0) {
      this.next();
    }
  }

  next(): void {
    const block = this.#block;
    if (block === undefined) return;
    if (this.#bounds.valueEnd < block.length) {
      this.#segment.entryAt(block, this.#bounds.valueEnd, this.#bounds, this.#blockIndex);
      return;
    }
    this.#blockIndex++;
    this.#load();
  }

  #load(): void {
    if (this.#blockIndex >= this.#segment.blockCount) {
      this.#block = undefined;
      return;
    }
    this.#block = this.#blocks(this.#blockIndex);
    this.#segment.entryAt(this.#block, 0, this.#bounds, this.#blockIndex);
  }
}

/** Reads up to `length` bytes at `position` of `fd` into `into` at `offset`; returns how many (fewer at the end). */
function readInto(fs: StoreFs, fd: number, into: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const read = fs.readSync(fd, into, offset + done, length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  return done;
}
