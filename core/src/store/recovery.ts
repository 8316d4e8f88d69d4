import { join } from 'node:path';
import { CorruptionError } from '../errors.js';
import { parseFileName, walFileName } from './filenames.js';
import type { StoreFs } from './vfs.js';

/** What a store directory holds, once the leftovers of crashes are removed. */
export interface DirectoryState {
  /** Live segments, oldest first, each covering WALs `lo..hi`. */
  readonly segments: ReadonlyArray<{ readonly name: string; readonly lo: number; readonly hi: number }>;
  /** Logs not yet in any segment, in the order they were written: to be flushed on open. */
  readonly walsToRecover: readonly number[];
  /** The number the next WAL takes. */
  readonly nextWalNumber: number;
}

/**
 * Reads a store directory and removes what a crash can leave behind: temporary files, segments a
 * finished compaction already replaced (their range lies inside another's), and logs already
 * flushed (numbered at or below the highest segment range). A directory restored from a backup
 * holds segments only and opens as it is.
 */
export function recoverDirectory(fs: StoreFs, dir: string): DirectoryState {
  const segments: Array<{ name: string; lo: number; hi: number }> = [];
  const wals: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    const parsed = parseFileName(name);
    if (parsed.kind === 'temporary') fs.unlinkSync(join(dir, name));
    else if (parsed.kind === 'segment') segments.push({ name, lo: parsed.lo, hi: parsed.hi });
    else if (parsed.kind === 'wal') wals.push(parsed.number);
  }
  const live = segments.filter(
    (segment) => !segments.some((other) => other !== segment && other.lo <= segment.lo && segment.hi <= other.hi),
  );
  for (const segment of segments) if (!live.includes(segment)) fs.unlinkSync(join(dir, segment.name));
  live.sort((a, b) => a.lo - b.lo);
  for (let i = 1; i < live.length; i++) {
    const [before, after] = [live[i - 1], live[i]] as const;
    if (before !== undefined && after !== undefined && after.lo <= before.hi) {
      throw new CorruptionError(after.name, `overlaps ${before.name}: the directory mixes files of two stores`);
    }
  }
  const flushedUpTo = live.reduce((max, segment) => Math.max(max, segment.hi), 0);
  const walsToRecover = wals.filter((n) => n > flushedUpTo).sort((a, b) => a - b);
  for (const n of wals) if (n <= flushedUpTo) fs.unlinkSync(join(dir, walFileName(n)));
  return { segments: live, walsToRecover, nextWalNumber: Math.max(flushedUpTo, ...wals, 0) + 1 };
}
