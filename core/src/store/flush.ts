import { join } from 'node:path';
import { segmentFileName, walFileName } from './filenames.js';
import { type SegmentEntry, writeSegmentFile, type Yield } from './segment-format.js';
import type { StoreFs } from './vfs.js';
import { type Operation, readWal } from './wal-format.js';

/** Turn write-ahead log `walNumber` in `dir` into a segment. */
export interface FlushJob {
  readonly dir: string;
  readonly walNumber: number;
}

/** The segment a flush wrote, or null when the log held no writes. */
export type FlushResult = { readonly segment: string; readonly size: number; readonly entries: number } | null;

/**
 * Flushes a frozen memtable by rebuilding it from its write-ahead log, which holds exactly its
 * writes: that is how the work moves to a worker thread without copying the memtable, and it is the
 * same code recovery runs for logs left by a crash. The last write to each key wins; the segment is
 * `segment-n-n.db` for log n.
 */
export async function flushWal(fs: StoreFs, job: FlushJob, pause: Yield): Promise<FlushResult> {
  const walName = walFileName(job.walNumber);
  const { batches } = readWal(fs.readFileSync(join(job.dir, walName)), walName);
  // latin1 maps each byte to one UTF-16 unit, so string order is byte order.
  const latest = new Map<string, Operation>();
  for (const batch of batches) for (const operation of batch) latest.set(operation.key.toString('latin1'), operation);
  if (latest.size === 0) return null;
  const keys = [...latest.keys()].sort();
  await pause();
  const entries = (function* (): Iterable<SegmentEntry> {
    for (const key of keys) yield latest.get(key) as Operation;
  })();
  const segment = segmentFileName(job.walNumber, job.walNumber);
  return { segment, ...(await writeSegmentFile(fs, job.dir, segment, entries, pause)) };
}
