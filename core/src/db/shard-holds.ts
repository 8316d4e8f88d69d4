/**
 * The restored classes a node holds (shard-hold.ts): what each hold moved into the data path, so a
 * release removes exactly that, and what becomes of a hold when its class is added.
 */
import { classNameKey as keyOf } from './class-definition.js';
import { type DataPath, shardDirectory } from './data-path.js';

/** A class held for a restore: what the hold put into the data path, so a release removes exactly that. */
export interface HeldClass {
  readonly className: string;
  /** The shard directories the hold moved into the data path, each `shardDirectory(root, class, shard)`. */
  readonly directories: readonly string[];
  /** The class directory, when the hold made it: a release removes it once it is empty. */
  readonly madeClassDirectory: string | undefined;
}

/**
 * The classes a node holds for restores, by class name ignoring case (as the schema keys them). Not
 * safe for concurrent use on its own: call it from within a schema change (SchemaRegistry.change), as
 * holdRestored, releaseHeld (shard-hold.ts) and the registry's adding of a class do.
 */
export class ShardHolds {
  readonly #path: DataPath;
  readonly #held = new Map<string, HeldClass>();

  constructor(path: DataPath) {
    this.#path = path;
  }

  /** True when class `className` (any case) is held. */
  has(className: string): boolean {
    return this.#held.has(keyOf(className));
  }

  /** Remembers a hold that has moved its directories into place. */
  add(held: HeldClass): void {
    this.#held.set(keyOf(held.className), held);
  }

  /**
   * Decides, before class `className` is added with `shards` open on this node, what becomes of its
   * hold. True when the held directories are exactly those shards' directories: the class takes them
   * over (opening them opens the restored data; call {@link adopted} once it is added). Otherwise a hold
   * is released first (its directories deleted), so restored data is never opened under a shard name it
   * was not restored for; false then, and false when the class is not held.
   * @throws what the filesystem throws while deleting; the hold then stays, for another try.
   */
  settle(className: string, shards: readonly string[]): boolean {
    const held = this.#held.get(keyOf(className));
    if (held === undefined) return false;
    const wanted = new Set(shards.map((shard) => shardDirectory(this.#path.root, className, shard)));
    const same = wanted.size === held.directories.length && held.directories.every((dir) => wanted.has(dir));
    if (!same) this.release(className);
    return same;
  }

  /** Forgets the hold of class `className`: it was added, and its directories are its shards now. */
  adopted(className: string): void {
    this.#held.delete(keyOf(className));
  }

  /**
   * Deletes what the hold of class `className` put into the data path and forgets it; nothing when the
   * class is not held. Only the directories the hold moved are deleted (whose names were checked when
   * held), and the class directory only if the hold made it and it is empty now.
   * @throws what the filesystem throws; the hold then stays, and releasing again finishes the job.
   */
  release(className: string): void {
    const held = this.#held.get(keyOf(className));
    if (held === undefined) return;
    const { fs } = this.#path;
    for (const dir of held.directories) this.#path.discard(dir);
    const classDir = held.madeClassDirectory;
    if (classDir !== undefined && fs.existsSync(classDir) && fs.readdirSync(classDir).length === 0) {
      fs.rmdirSync(classDir);
    }
    this.#held.delete(keyOf(className));
  }

  /**
   * Releases every hold, as far as the filesystem lets it: for a node that closes, whose holds would be
   * lost anyway. What cannot be deleted is moved aside when the data path is next opened.
   */
  releaseAll(): void {
    for (const { className } of [...this.#held.values()]) {
      try {
        this.release(className);
      } catch {
        // Left for the next start's orphan scan, which moves it aside rather than lose a restore's files.
      }
    }
  }
}
