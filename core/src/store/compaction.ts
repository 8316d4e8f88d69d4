import { BlockCache } from './block-cache.js';
import { parseFileName, segmentFileName } from './filenames.js';
import { MergeCursor } from './merge-cursor.js';
import { type SegmentEntry, writeSegmentFile, type Yield } from './segment-format.js';
import { SegmentCursor, SegmentReader } from './segment-reader.js';
import type { StoreFs } from './vfs.js';

/** Merge adjacent segments `inputs` (oldest first) of `dir` into one. */
export interface CompactionJob {
  readonly dir: string;
  readonly inputs: readonly string[];
  /** True when the inputs include the store's oldest segment: nothing older can hide under a tombstone. */
  readonly dropTombstones: boolean;
}

export interface CompactionResult {
  readonly segment: string;
  readonly size: number;
  readonly entries: number;
}

/**
 * A compaction reads its inputs' data blocks once, in order, without caching them; a small private
 * cache holds the index partitions that locate them.
 */
const COMPACTION_CACHE_BYTES = 1024 * 1024;

function rangeOf(name: string): [number, number] {
  const parsed = parseFileName(name);
  if (parsed.kind !== 'segment') throw new TypeError(`not a segment file name: ${name}`);
  return [parsed.lo, parsed.hi];
}

/**
 * Merges adjacent segments into one covering their whole range: for each key only the newest entry
 * survives, and tombstones are dropped when nothing older exists. The output's rename replaces the
 * inputs atomically: from then on its range covers theirs, and recovery deletes any input left
 * behind by a crash. Reads and writes carry on meanwhile; this touches only immutable files.
 */
export async function compactSegments(
  fs: StoreFs,
  job: CompactionJob,
  pause: Yield,
  signal?: AbortSignal,
): Promise<CompactionResult> {
  const cache = new BlockCache(COMPACTION_CACHE_BYTES);
  const readers = job.inputs.map((name) => SegmentReader.open(fs, job.dir, name, rangeOf(name), cache));
  try {
    const cursor = new MergeCursor(
      readers.map((reader) => new SegmentCursor(reader, reader.sequentialBlocks())).reverse(),
    );
    const entries = (function* (): Iterable<SegmentEntry> {
      for (cursor.seek(undefined); cursor.valid; cursor.next()) {
        const value = cursor.value;
        if (value === undefined && job.dropTombstones) continue;
        yield { key: cursor.key, value };
      }
    })();
    const [lo] = rangeOf(job.inputs[0] as string);
    const [, hi] = rangeOf(job.inputs[job.inputs.length - 1] as string);
    const segment = segmentFileName(lo, hi);
    return { segment, ...(await writeSegmentFile(fs, job.dir, segment, entries, pause, signal)) };
  } finally {
    for (const reader of readers) reader.unref();
  }
}
