/**
 * The data path (PERSISTENCE_DATA_PATH) and what is where in it: one node claims it, each class has
 * a directory `<class in lower case>/` holding a store directory per shard, and directories no class
 * accounts for are moved aside. The layout functions serve staging directories laid out the same way.
 */
import { basename, join } from 'node:path';
import { DataPathLockedError } from '../errors.js';
import { acquireLock, type StoreFactory } from '../store/index.js';
import type { DataFs } from './data-fs.js';
import { Shard } from './shard.js';

/** Where directories no class accounts for are moved, inside the data path. */
const ORPHANS = '.orphaned';
/** How a deleted class's directory is renamed, at the data path's top, until its files are removed. */
const DELETING = '.deleting-';

/** The name of a class's directory: its name in lower case, as class names are unique ignoring case. */
function classDirectoryName(className: string): string {
  return className.toLowerCase();
}

/** A class's directory under `root` (a data path, or a staging directory laid out as one). */
function classDirectory(root: string, className: string): string {
  return join(root, classDirectoryName(className));
}

/** The one place that names a shard's directory: `<root>/<class in lower case>/<shard>`. */
export function shardDirectory(root: string, className: string, shard: string): string {
  return join(classDirectory(root, className), shard);
}

/**
 * Where a shard's file is relative to a root laid out as a data path, `/`-separated whatever the
 * platform (`<class in lower case>/<shard>/<file>`): the path a backup records for the file.
 */
export function shardFilePath(className: string, shard: string, file: string): string {
  return `${classDirectoryName(className)}/${shard}/${file}`;
}

/** The data path of a running node: claimed for as long as the node runs, its shards opened here. */
export class DataPath {
  readonly root: string;
  readonly fs: DataFs;
  readonly #factory: StoreFactory;
  readonly #release: () => void;
  /** The removal of deleted classes' files, one directory after the other. */
  #purging: Promise<void> = Promise.resolve();
  #deletions = 0;

  private constructor(root: string, fs: DataFs, factory: StoreFactory, release: () => void) {
    this.root = root;
    this.fs = fs;
    this.#factory = factory;
    this.#release = release;
    // What a node that stopped or died mid-removal left.
    for (const name of fs.readdirSync(root)) if (name.startsWith(DELETING)) this.#purge(join(root, name));
  }

  /**
   * Creates `root` if need be and claims it (one node per data path) until {@link release}.
   * @throws DataPathLockedError when another live process, or this one, has it.
   */
  static claim(fs: DataFs, root: string, factory: StoreFactory): DataPath {
    fs.mkdirSync(root, { recursive: true });
    const release = acquireLock(fs, root, (holder) => new DataPathLockedError(root, holder));
    return new DataPath(root, fs, factory, release);
  }

  /** Gives the data path up; another node may claim it. */
  release(): void {
    this.#release();
  }

  /** This data path's directory for `className`. */
  classDirectory(className: string): string {
    return classDirectory(this.root, className);
  }

  /** Opens (creating where it is new) the store of shard `name` of `className`, owned by `node`. */
  async openShard(className: string, name: string, node: string): Promise<Shard> {
    return new Shard(name, node, await this.#factory.open(shardDirectory(this.root, className, name)));
  }

  /** Deletes a class's directory (see {@link discard}); the class's stores must be closed. */
  removeClass(className: string): void {
    this.discard(this.classDirectory(className));
  }

  /**
   * Deletes `dir`, a directory inside the data path, if it exists. It is renamed aside at once and its
   * files removed in the background: unlinking a gigabyte of segments takes hundreds of milliseconds,
   * which would hold up every request if done on the event loop.
   */
  discard(dir: string): void {
    if (!this.fs.existsSync(dir)) return;
    const aside = join(this.root, `${DELETING}${basename(dir)}-${Date.now()}-${++this.#deletions}`);
    this.fs.renameSync(dir, aside);
    this.#purge(aside);
  }

  /** Resolves once everything discarded so far is removed from the disk. */
  purged(): Promise<void> {
    return this.#purging;
  }

  /** Removes `dir` after what is already being removed; a failure leaves it for the next start. */
  #purge(dir: string): void {
    this.#purging = this.#purging
      .then(() => this.fs.promises.rm(dir, { recursive: true, force: true }))
      .catch(() => {});
  }

  /**
   * Moves every class directory of no class in `classNames` to `.orphaned/<name>-<time>`, never
   * deleting it: such a directory is left by a crash during a class deletion or an attach, or holds
   * shards a crashed node held for a restore (Database.holdRestored), and may hold the only copy of
   * something.
   */
  moveOrphans(classNames: readonly string[], warn?: (fields: object, message: string) => void): void {
    const known = new Set(classNames.map(classDirectoryName));
    for (const name of this.fs.readdirSync(this.root)) {
      if (name.startsWith('.') || known.has(name) || !this.fs.lstatSync(join(this.root, name)).isDirectory()) continue;
      const target = join(this.root, ORPHANS, `${name}-${Date.now()}`);
      this.fs.mkdirSync(join(this.root, ORPHANS), { recursive: true });
      this.fs.renameSync(join(this.root, name), target);
      warn?.({ directory: name, movedTo: target }, 'a directory in the data path belongs to no class; moved it aside');
    }
  }
}
