/**
 * Which segments to merge next. Segments are merged in adjacent pairs, so each output covers a
 * contiguous range of WALs and the directory stays self-describing (see filenames.ts).
 *
 * A pair is eligible when the older segment is at most `SIZE_RATIO` times the newer: fresh flushes
 * merge with each other first and a large old segment is rewritten only once enough data has
 * accumulated above it, which keeps write amplification logarithmic (size-tiered). Among eligible
 * pairs the smallest goes first. Past `MAX_SEGMENTS`, the smallest adjacent pair is merged whatever
 * the ratio, so reads never consult too many files.
 */

const SIZE_RATIO = 2;
const MAX_SEGMENTS = 10;

/** The index of the older segment of the pair to merge (with the one after it), or undefined. */
export function pickCompaction(sizes: readonly number[]): number | undefined {
  let best: number | undefined;
  let bestSize = Number.POSITIVE_INFINITY;
  const forced = sizes.length > MAX_SEGMENTS;
  for (let i = 0; i + 1 < sizes.length; i++) {
    const older = sizes[i] as number;
    const newer = sizes[i + 1] as number;
    if (!forced && older > SIZE_RATIO * newer) continue;
    if (older + newer < bestSize) {
      best = i;
      bestSize = older + newer;
    }
  }
  return best;
}
