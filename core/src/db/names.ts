/**
 * The names that become directory names and object-key segments: a node's, a shard's, a store file's.
 * Each segment is a plain name by construction (no separator, never `.` or `..`), so nothing named by
 * a request, a configuration or a backup can point outside the directory it is joined to.
 */

import { randomBytes } from 'node:crypto';

/** CLUSTER_HOSTNAME: 1 to 64 letters, digits, `_`, `-` and `.`, but not `.` or `..`. */
export const NODE_NAME = /^(?!\.\.?$)[A-Za-z0-9_.-]{1,64}$/;

/** A shard: 1 to 64 letters, digits, `_` and `-` (Weaviate's tenant names; Strata makes 12 letters and digits). */
export const SHARD_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const SHARD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new random shard name, as Weaviate's: 12 letters and digits. */
export function newShardName(): string {
  return [...randomBytes(12)].map((byte) => SHARD_ALPHABET[byte % SHARD_ALPHABET.length]).join('');
}

/** What {@link NODE_NAME} allows, for messages. */
export const NODE_NAME_RULE = 'use 1 to 64 letters, digits, "_", "-" and "." (but not "." or "..")';

/** What {@link SHARD_NAME} allows, for messages. */
export const SHARD_NAME_RULE = 'use 1 to 64 letters, digits, "_" and "-"';

/**
 * A store file's path inside its store directory: up to 4 `/`-separated plain names (never `.`,
 * `..` or hidden; the LSM store's files are flat). One anchored pattern, linear in the path.
 */
const STORE_FILE_PATH = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}){0,3}$/;

/**
 * True when `path` (`/`-separated, relative to a store directory) is one a backup may carry. A store
 * whose files are named otherwise could not be restored, so it is not backed up.
 */
export function isStoreFilePath(path: string): boolean {
  return STORE_FILE_PATH.test(path);
}

/** What {@link isStoreFilePath} allows, for messages. */
export const STORE_FILE_PATH_RULE =
  'up to 4 "/"-separated names of letters, digits, "_", "-" and "." (not starting with ".")';
