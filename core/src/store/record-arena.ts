/** Bytes of each chunk the arena carves records from. */
const CHUNK_BYTES = 64 * 1024;
/** Records larger than this get an allocation of their own, so a chunk is never mostly waste. */
const MAX_CARVED_BYTES = CHUNK_BYTES / 8;

/**
 * Where a store's log records are allocated (LevelDB's and RocksDB's memtable arena). The memtable
 * keeps views of the records it applied, so a record lives until its memtable is flushed: small
 * ones are carved in turn from 64 KiB chunks of the store's own, which then hold nothing else, and
 * a chunk is freed with the last view into it. Node's shared 8 KiB pool, which `allocUnsafe` carves
 * from, would instead keep other short-lived buffers alive with each record (up to four times the
 * memtable's bytes), and a buffer of its own per record costs an allocation per write.
 */
export class RecordArena {
  #chunk = Buffer.allocUnsafeSlow(0);
  #used = 0;

  /** `bytes` of memory no other allocation shares, but for records carved before and after it. */
  allocate(bytes: number): Buffer {
    if (bytes > MAX_CARVED_BYTES) return Buffer.allocUnsafeSlow(bytes);
    if (this.#used + bytes > this.#chunk.length) {
      this.#chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      this.#used = 0;
    }
    const record = this.#chunk.subarray(this.#used, this.#used + bytes);
    this.#used += bytes;
    return record;
  }
}
