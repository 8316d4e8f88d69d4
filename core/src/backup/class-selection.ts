import { capitalizeClassName } from '../db/index.js';
import {
  BackupBothListsError,
  BackupDuplicateClassError,
  BackupEmptySelectionError,
  BackupNoClassesError,
  BackupSelectionTooLargeError,
  BackupTooManyPatternsError,
  BackupUnknownClassError,
} from '../errors.js';
import { compilePattern, isPattern } from './class-patterns.js';

/**
 * Which classes a backup or restore covers: Weaviate's include/exclude rules and messages, with its
 * wildcards (class-patterns.ts). Everything here is linear in the request; each pattern is matched
 * against each class, hence the bounds below.
 */

/**
 * The most entries `include` or `exclude` may hold. Weaviate sets none; 1000 is what Weaviate Cloud
 * allows a node in collections (MAXIMUM_ALLOWED_COLLECTIONS_COUNT), and more than a list needs.
 */
export const MAX_SELECTION_ENTRIES = 1000;
/** The most wildcard patterns `include` or `exclude` may hold: each is matched against every class. */
export const MAX_SELECTION_PATTERNS = 8;
function checkBounds(list: 'include' | 'exclude', entries: readonly string[]): void {
  if (entries.length > MAX_SELECTION_ENTRIES) {
    throw new BackupSelectionTooLargeError(list, entries.length, MAX_SELECTION_ENTRIES);
  }
  const patterns = entries.filter(isPattern).length;
  if (patterns > MAX_SELECTION_PATTERNS) {
    throw new BackupTooManyPatternsError(list, patterns, MAX_SELECTION_PATTERNS);
  }
}

function expand(entries: readonly string[], available: readonly string[], kind: 'backup' | 'restore'): string[] {
  const known = new Set(available);
  const selected = new Set<string>();
  const patterns = entries.filter(isPattern).map(compilePattern);
  if (patterns.length > 0) {
    for (const name of available) {
      const codes = Array.from(name, (c) => c.codePointAt(0) as number);
      if (patterns.some((glob) => glob.matches(codes))) selected.add(name);
    }
  }
  for (const entry of entries) {
    if (isPattern(entry)) continue;
    const name = capitalizeClassName(entry);
    // Weaviate quotes the entry as the request gave it.
    if (!known.has(name)) {
      throw new BackupUnknownClassError(kind, entry, available);
    }
    selected.add(name);
  }
  return available.filter((name) => selected.has(name));
}

/**
 * The classes of `available` that `include` or `exclude` select (all when both are empty).
 * @throws Weaviate's errors (BackupUnknownClassError, ...), and Strata's for malformed patterns and for
 * lists over {@link MAX_SELECTION_ENTRIES} entries or {@link MAX_SELECTION_PATTERNS} patterns.
 */
export function selectClasses(
  available: readonly string[],
  request: { readonly include?: readonly string[] | undefined; readonly exclude?: readonly string[] | undefined },
  kind: 'backup' | 'restore',
): string[] {
  const include = request.include ?? [];
  const exclude = request.exclude ?? [];
  if (include.length > 0 && exclude.length > 0) {
    throw new BackupBothListsError();
  }
  checkBounds('include', include);
  checkBounds('exclude', exclude);
  const seen = new Set<string>();
  for (const entry of include) {
    if (seen.has(entry)) throw new BackupDuplicateClassError(entry);
    seen.add(entry);
  }
  if (available.length === 0 && kind === 'backup') {
    throw new BackupNoClassesError();
  }
  let selected = include.length > 0 ? expand(include, available, kind) : [...available];
  if (exclude.length > 0) {
    const patterns = exclude.filter(isPattern);
    const excluded = new Set([
      ...(patterns.length > 0 ? expand(patterns, available, kind) : []),
      ...exclude.filter((entry) => !isPattern(entry)).map(capitalizeClassName),
    ]);
    selected = selected.filter((name) => !excluded.has(name));
  }
  if (selected.length === 0) {
    throw new BackupEmptySelectionError(kind, available);
  }
  return selected;
}
