import { capitalizeClassName } from '../db/index.js';
import { BackupRequestError } from '../errors.js';

/**
 * Which classes a backup or restore covers: Weaviate's include/exclude rules and messages, with its
 * wildcards (`*` any run of characters, `?` one character, `[...]` a character class).
 */

const isPattern = (entry: string) => /[*?[]/.test(entry);

function patternRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) throw new BackupRequestError(`invalid class pattern '${pattern}': unclosed '['`);
      source += `[${pattern
        .slice(i + 1, end)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\')}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Go's %v of a string slice, as Weaviate's messages print class lists: `[A B C]`. */
const goList = (items: readonly string[]) => `[${items.join(' ')}]`;

function expand(entries: readonly string[], available: readonly string[], kind: 'backup' | 'restore'): string[] {
  const selected = new Set<string>();
  for (const entry of entries) {
    if (isPattern(entry)) {
      const regex = patternRegex(entry);
      for (const name of available) if (regex.test(name)) selected.add(name);
      continue;
    }
    const name = capitalizeClassName(entry);
    if (!available.includes(name)) {
      throw new BackupRequestError(
        kind === 'backup'
          ? `class ${name} doesn't exist`
          : `class ${name} doesn't exist in the backup, but does have ${goList(available)}`,
      );
    }
    selected.add(name);
  }
  return available.filter((name) => selected.has(name));
}

/**
 * The classes of `available` that `include` or `exclude` select (all when both are empty).
 * @throws BackupRequestError with Weaviate's messages.
 */
export function selectClasses(
  available: readonly string[],
  request: { readonly include?: readonly string[] | undefined; readonly exclude?: readonly string[] | undefined },
  kind: 'backup' | 'restore',
): string[] {
  const include = request.include ?? [];
  const exclude = request.exclude ?? [];
  if (include.length > 0 && exclude.length > 0) {
    throw new BackupRequestError("malformed request: 'include' and 'exclude' cannot both contain values");
  }
  const duplicate = include.find((entry, i) => include.indexOf(entry) !== i);
  if (duplicate !== undefined) throw new BackupRequestError(`class list 'include' contains duplicate: ${duplicate}`);
  if (available.length === 0 && kind === 'backup') {
    throw new BackupRequestError("no available classes to backup, there's nothing to do here");
  }
  let selected = include.length > 0 ? expand(include, available, kind) : [...available];
  if (exclude.length > 0) {
    const excluded = new Set(
      exclude.flatMap((entry) => (isPattern(entry) ? expand([entry], available, kind) : [capitalizeClassName(entry)])),
    );
    selected = selected.filter((name) => !excluded.has(name));
  }
  if (selected.length === 0) {
    throw new BackupRequestError(
      kind === 'backup'
        ? `empty class list: please choose from : ${goList(available)}`
        : `nothing left to restore: please choose from : ${goList(available)}`,
    );
  }
  return selected;
}
