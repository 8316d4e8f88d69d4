import type { Bucket, Cursor, Entry, ScanRange } from './contract.js';
import { type Bytes, internalKey, toBuffer, valueBytes } from './internal-key.js';
import type { MergeCursor } from './merge-cursor.js';
import type { Operation } from './wal-format.js';

/** What a bucket needs from its store. */
export interface BucketHost {
  /** The value of an internal key (a copy), or undefined. */
  lookup(key: Buffer): Buffer | undefined;
  write(operations: Operation[]): Promise<void>;
  /** A merged cursor over the store's current memtables and segments, and how to let go of it. */
  openCursor(): { cursor: MergeCursor; release(): void };
}

function startsWith(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** Where a scan starts and whether an entry lies past its end. */
function bounds(prefix: Buffer, range: ScanRange) {
  const start = internalKey(prefix, range.gte ?? range.gt ?? range.prefix ?? Buffer.alloc(0));
  const gt = range.gt === undefined ? undefined : internalKey(prefix, range.gt);
  const lt = range.lt === undefined ? undefined : internalKey(prefix, range.lt);
  const lte = range.lte === undefined ? undefined : internalKey(prefix, range.lte);
  const within = range.prefix === undefined ? prefix : internalKey(prefix, range.prefix);
  const ended = (key: Buffer) =>
    !startsWith(key, within) ||
    (lt !== undefined && Buffer.compare(key, lt) >= 0) ||
    (lte !== undefined && Buffer.compare(key, lte) > 0);
  const skip = (key: Buffer) => gt !== undefined && key.equals(gt);
  return { start, ended, skip };
}

/** A bucket of an LSM store: its keys are the store's internal keys under the bucket's prefix. */
export class LsmBucket implements Bucket {
  readonly name: string;
  readonly #prefix: Buffer;
  readonly #host: BucketHost;

  constructor(name: string, prefix: Buffer, host: BucketHost) {
    this.name = name;
    this.#prefix = prefix;
    this.#host = host;
  }

  async get(key: Bytes): Promise<Buffer | undefined> {
    return this.#host.lookup(internalKey(this.#prefix, key));
  }

  put(key: Bytes, value: Bytes): Promise<void> {
    return this.#host.write([{ key: internalKey(this.#prefix, key), value: valueBytes(value) }]);
  }

  delete(key: Bytes): Promise<void> {
    return this.#host.write([{ key: internalKey(this.#prefix, key), value: undefined }]);
  }

  async *scan(range: ScanRange = {}): AsyncIterable<Entry> {
    const { start, ended, skip } = bounds(this.#prefix, range);
    const limit = range.limit ?? Number.POSITIVE_INFINITY;
    const { cursor, release } = this.#host.openCursor();
    try {
      let count = 0;
      for (cursor.seek(start); cursor.valid && count < limit; cursor.next()) {
        const key = cursor.key;
        if (ended(key)) break;
        const value = cursor.value;
        if (value === undefined || skip(key)) continue;
        count++;
        yield { key: Buffer.from(key.subarray(this.#prefix.length)), value: Buffer.from(value) };
      }
    } finally {
      release();
    }
  }

  cursor(): Cursor {
    const prefix = this.#prefix;
    const { cursor, release } = this.#host.openCursor();
    let closed = false;
    const settle = (): Entry | undefined => {
      while (cursor.valid && cursor.value === undefined) cursor.next();
      if (!cursor.valid || !startsWith(cursor.key, prefix)) return undefined;
      return { key: Buffer.from(cursor.key.subarray(prefix.length)), value: Buffer.from(cursor.value as Buffer) };
    };
    const open = () => {
      if (closed) throw new TypeError('cursor is closed');
    };
    return {
      async seek(key?: Bytes) {
        open();
        cursor.seek(internalKey(prefix, key === undefined ? Buffer.alloc(0) : toBuffer(key)));
        return settle();
      },
      async next() {
        open();
        cursor.next();
        return settle();
      },
      close() {
        if (!closed) release();
        closed = true;
      },
    };
  }
}
