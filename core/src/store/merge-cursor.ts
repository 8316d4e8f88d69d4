/** A sorted source of entries: a memtable or a segment, positioned on one entry at a time. */
export interface SortedSource {
  readonly valid: boolean;
  readonly key: Buffer;
  /** The value, or undefined for a tombstone. */
  readonly value: Buffer | undefined;
  /** Positions on the first entry `>= key` (the first entry when undefined). */
  seek(key: Buffer | undefined): void;
  next(): void;
}

/**
 * Merges sorted sources into one sorted stream with one entry per key: where several sources hold a
 * key, the one listed first (the newest) wins and the others are skipped. Tombstones are passed
 * through; callers decide whether to hide or keep them.
 */
export class MergeCursor {
  readonly #sources: readonly SortedSource[];
  #current: SortedSource | undefined;

  /** `sources` newest first. */
  constructor(sources: readonly SortedSource[]) {
    this.#sources = sources;
  }

  get valid(): boolean {
    return this.#current !== undefined;
  }

  get key(): Buffer {
    return (this.#current as SortedSource).key;
  }

  get value(): Buffer | undefined {
    return (this.#current as SortedSource).value;
  }

  seek(key: Buffer | undefined): void {
    for (const source of this.#sources) source.seek(key);
    this.#settle();
  }

  next(): void {
    const current = this.#current;
    if (current === undefined) return;
    // `key` may be a view of a buffer its source reuses (a sequential segment read): the other
    // sources holding it move on first, its own source last.
    const key = current.key;
    for (const source of this.#sources) {
      if (source !== current && source.valid && source.key.equals(key)) source.next();
    }
    current.next();
    this.#settle();
  }

  #settle(): void {
    let best: SortedSource | undefined;
    for (const source of this.#sources) {
      if (source.valid && (best === undefined || Buffer.compare(source.key, best.key) < 0)) best = source;
    }
    this.#current = best;
  }
}
