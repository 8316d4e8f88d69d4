/**
 * The filesystem the database's own files go through: schema.json, the data path's lock, class
 * directories, a snapshot's links and an attach's renames. Injected (`DatabaseOptions.fs`) so tests
 * can fail or "crash" any step; shard stores have their own, through their factory. This file is the
 * only one in db/ that imports node:fs.
 */
import * as nodeFs from 'node:fs';
import type { StoreFs } from '../store/index.js';

/** What db/ needs of a filesystem beyond what the store needs (see StoreFs for durability). */
export interface DataFs extends StoreFs {
  /** Without `recursive`, fails when `path` exists, so a caller knows it made the directory. */
  mkdirSync(path: string, options?: { recursive?: boolean }): unknown;
  /** Hard-links `existing` as `newPath`; fails across devices and where links are unsupported. */
  linkSync(existing: string, newPath: string): void;
  copyFileSync(source: string, destination: string): void;
  /** Creates or truncates `path` and writes `data` (UTF-8) to it, into the page cache (fsync to keep it). */
  writeFileSync(path: string, data: string): void;
  /** Removes an empty directory; fails on one that is not empty. */
  rmdirSync(path: string): void;
  /** Off the event loop: how a deleted class's files are removed (a large class takes a while). */
  readonly promises: { rm(path: string, options: { recursive: true; force: true }): Promise<void> };
  existsSync(path: string): boolean;
  /** The entry itself, not what a symbolic link points to. */
  lstatSync(path: string): { isDirectory(): boolean };
}

/** The real filesystem. */
export const realDataFs: DataFs = nodeFs as unknown as DataFs;
