import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { BackupLocationError } from '../errors.js';
import type { BackendScope, BackupBackend } from '../provider/backend.js';

/**
 * Backups that live in local directories (a backend whose `pathScope` is `directory`) must stay out
 * of the node's data path, and must not hold it: a backup written there could overwrite the data it
 * copies, a backup's objects deleted there could be the node's own files, and the node moves
 * unknown directories in its data path aside on start-up. Checked on every request that names a
 * location, and for the configured root when the node starts.
 */

/** `path` with symbolic links resolved, as far as it exists (the rest is appended as given). */
function real(path: string): string {
  let existing = resolve(path);
  const rest: string[] = [];
  while (!existsSync(existing)) {
    const parent = dirname(existing);
    if (parent === existing) break;
    rest.unshift(basename(existing));
    existing = parent;
  }
  return join(realpathSync(existing), ...rest);
}

const within = (inner: string, outer: string) =>
  inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

/** True when directories `a` and `b` are the same, or one holds the other. */
export function overlaps(a: string, b: string): boolean {
  const realA = real(a);
  const realB = real(b);
  return within(realA, realB) || within(realB, realA);
}

/** Throws BackupLocationError when backup `id`'s directory in `backend` overlaps `dataPath`. */
export function assertOutsideDataPath(backend: BackupBackend, id: string, scope: BackendScope, dataPath: string): void {
  const home = backend.homePath(id, scope);
  if (overlaps(home, dataPath)) throw new BackupLocationError(home);
}

/**
 * Throws BackupLocationError when the configured root of a directory backend overlaps `dataPath`. The
 * root is the parent of a backup's home: a directory backend's `homePath(id)` is `<root>/<id>`.
 */
export function assertRootOutsideDataPath(backend: BackupBackend, dataPath: string): void {
  const root = dirname(backend.homePath('location-check'));
  if (overlaps(root, dataPath)) throw new BackupLocationError(root);
}
