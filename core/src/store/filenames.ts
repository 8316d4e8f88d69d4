/**
 * Every file name in a store directory is made and parsed here, nowhere else (pebble's filenames.go).
 *
 * ```
 * LOCK                              the process holding the directory (its pid)
 * wal-00000007.log                  write-ahead log number 7: the memtable's writes, in order
 * segment-00000003-00000006.db      an immutable segment holding the writes of WALs 3 to 6
 * *.tmp                             a file being written; never part of the store's state
 * ```
 *
 * A segment's range names the write-ahead logs whose writes it holds: a flush of WAL n writes
 * `segment-n-n`, a compaction of `a-b` and `c-d` writes `a-d`. The range is what makes the directory
 * self-describing: a segment whose range lies inside another's is an input its compaction already
 * replaced, and a WAL numbered at or below the highest flushed number is already in a segment.
 */

export const LOCK_FILE = 'LOCK';
const TEMPORARY_SUFFIX = '.tmp';
const WAL_PATTERN = /^wal-(\d{8})\.log$/;
const SEGMENT_PATTERN = /^segment-(\d{8})-(\d{8})\.db$/;

const number8 = (n: number) => String(n).padStart(8, '0');

/** The name of write-ahead log `n`. */
export function walFileName(n: number): string {
  return `wal-${number8(n)}.log`;
}

/** The name of the segment holding the writes of WALs `lo` to `hi`. */
export function segmentFileName(lo: number, hi: number): string {
  return `segment-${number8(lo)}-${number8(hi)}.db`;
}

/** The temporary name a file is written under before it is renamed to `name`. */
export function temporaryFileName(name: string): string {
  return `${name}${TEMPORARY_SUFFIX}`;
}

/** What a file in a store directory is. */
export type ParsedFileName =
  | { readonly kind: 'wal'; readonly number: number }
  | { readonly kind: 'segment'; readonly lo: number; readonly hi: number }
  | { readonly kind: 'temporary' }
  | { readonly kind: 'lock' }
  | { readonly kind: 'unknown' };

export function parseFileName(name: string): ParsedFileName {
  if (name === LOCK_FILE) return { kind: 'lock' };
  if (name.endsWith(TEMPORARY_SUFFIX)) return { kind: 'temporary' };
  const wal = WAL_PATTERN.exec(name);
  if (wal) return { kind: 'wal', number: Number(wal[1]) };
  const segment = SEGMENT_PATTERN.exec(name);
  if (segment) return { kind: 'segment', lo: Number(segment[1]), hi: Number(segment[2]) };
  return { kind: 'unknown' };
}
