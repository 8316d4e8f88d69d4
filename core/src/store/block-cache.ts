/**
 * A least-recently-used cache of verified data blocks, shared by a store's segments (or by every
 * store a factory opens) and bounded in bytes. Keys start with the segment's uid, unique in the
 * process (segment-reader.ts), so segments of different stores never share a key. Blocks are
 * immutable, so a cached block never goes stale; an obsolete or closed segment's blocks age out.
 */
export class BlockCache {
  readonly #capacity: number;
  readonly #blocks = new Map<string, Buffer>();
  #bytes = 0;

  constructor(capacityBytes: number) {
    this.#capacity = capacityBytes;
  }

  get(key: string): Buffer | undefined {
    const block = this.#blocks.get(key);
    if (block !== undefined) {
      // Re-inserting moves the key to the back of the Map's order: most recently used.
      this.#blocks.delete(key);
      this.#blocks.set(key, block);
    }
    return block;
  }

  set(key: string, block: Buffer): void {
    if (block.length > this.#capacity) return;
    this.#blocks.set(key, block);
    this.#bytes += block.length;
    for (const [oldest, evicted] of this.#blocks) {
      if (this.#bytes <= this.#capacity) break;
      this.#blocks.delete(oldest);
      this.#bytes -= evicted.length;
    }
  }
}
