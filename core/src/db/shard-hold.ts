/**
 * A cluster restore's step on each node: restored shard directories are held in their final places
 * without becoming classes of the node. The classes become the cluster's later, when the coordinator
 * records them in etcd, and each node adds them the ordinary way (applyClass), opening the held
 * directories; a restore that fails before that releases them (deletes them).
 *
 * Holds live in memory only. After a crash the held directories belong to no class of schema.json,
 * so the next start moves them to `.orphaned/` (DataPath.moveOrphans), like any other leftover.
 */
import { ClassExistsError, ShardDirectoryExistsError } from '../errors.js';
import { syncDirectory } from '../store/index.js';
import { classNameKey as keyOf } from './class-definition.js';
import { type DataPath, shardDirectory } from './data-path.js';
import { SHARD_NAME } from './names.js';
import type { SchemaRegistry } from './schema-registry.js';
import type { StagedClass } from './shard-attach.js';

/** A class held for a restore: what the hold put into the data path, so a release removes exactly that. */
interface HeldClass {
  readonly className: string;
  /** The shard directories the hold moved into the data path, each `shardDirectory(root, class, shard)`. */
  readonly directories: readonly string[];
  /** The class directory, when the hold made it: a release removes it once it is empty. */
  readonly madeClassDirectory: string | undefined;
}

/**
 * The classes a node holds for restores, by class name ignoring case (as the schema keys them). Not
 * safe for concurrent use on its own: call it from within a schema change (SchemaRegistry.change), as
 * {@link holdRestored}, {@link releaseHeld} and the registry's adding of a class do.
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
    for (const dir of held.directories) fs.rmSync(dir, { recursive: true, force: true });
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

/**
 * Holds restored classes, all or none, as one schema change: checks every class and shard first, then
 * moves each staged shard directory to `shardDirectory(root, class, shard)` (making the class
 * directory where there is none) and makes the new names durable; schema.json is not written. On a
 * failure part-way, what was moved is moved back and the class directories this call made are
 * removed; nothing is deleted recursively (the names come from a backup).
 * @throws ClassExistsError when a class exists or is held already; ShardDirectoryExistsError when a
 *   shard's directory exists already; TypeError for an invalid shard name, a shard name repeated
 *   ignoring case, or a class given twice; or what the filesystem throws.
 */
export function holdRestored(schema: SchemaRegistry, path: DataPath, classes: readonly StagedClass[]): Promise<void> {
  const { fs } = path;
  return schema.change(async () => {
    check(schema, path, classes);
    const made: string[] = [];
    const moved: Array<{ from: string; to: string }> = [];
    const holds: HeldClass[] = [];
    try {
      for (const { definition, shards } of classes) {
        const className = definition.class;
        const classDir = path.classDirectory(className);
        const madeHere = !fs.existsSync(classDir);
        if (madeHere) {
          fs.mkdirSync(classDir);
          made.push(classDir);
        }
        const directories: string[] = [];
        for (const shard of shards) {
          const target = shardDirectory(path.root, className, shard.name);
          fs.renameSync(shard.directory, target);
          moved.push({ from: shard.directory, to: target });
          directories.push(target);
        }
        holds.push({ className, directories, madeClassDirectory: madeHere ? classDir : undefined });
      }
      // The restored files were synced; make their new names durable, as an attach does.
      for (const { to } of moved) syncDirectory(fs, to);
      for (const { definition } of classes) syncDirectory(fs, path.classDirectory(definition.class));
      syncDirectory(fs, path.root);
    } catch (error) {
      for (const { from, to } of moved.reverse()) fs.renameSync(to, from);
      for (const dir of made.reverse()) fs.rmdirSync(dir);
      throw error;
    }
    for (const held of holds) schema.holds.add(held);
  });
}

/**
 * Releases the holds of `classNames`, as one schema change: of each class that is held (and not in the
 * schema), deletes the directories the hold moved into place, and the class directory if the hold
 * made it and it is empty now. Names that are not held are ignored, so releasing twice is harmless.
 * @throws what the filesystem throws; the holds not yet released stay, and releasing again finishes.
 */
export function releaseHeld(schema: SchemaRegistry, classNames: readonly string[]): Promise<void> {
  return schema.change(async () => {
    for (const name of classNames) {
      if (schema.find(name) === undefined) schema.holds.release(name);
    }
  });
}

/** Refuses, before anything moves, a set of classes that cannot all be held. */
function check(schema: SchemaRegistry, path: DataPath, classes: readonly StagedClass[]): void {
  const given = new Set<string>();
  for (const { definition, shards } of classes) {
    const className = definition.class;
    if (given.has(keyOf(className))) throw new TypeError(`holdRestored: class ${className} is given twice`);
    given.add(keyOf(className));
    if (schema.find(className) !== undefined || schema.holds.has(className)) throw new ClassExistsError(className);
    const names = new Set<string>();
    for (const { name } of shards) {
      if (!SHARD_NAME.test(name)) throw new TypeError(`holdRestored: invalid shard name ${JSON.stringify(name)}`);
      // On a case-insensitive filesystem "a" and "A" would be one directory.
      if (names.has(name.toLowerCase())) throw new TypeError(`holdRestored: shard name ${name} is given twice`);
      names.add(name.toLowerCase());
      const target = shardDirectory(path.root, className, name);
      if (path.fs.existsSync(target)) throw new ShardDirectoryExistsError(className, name, target);
    }
  }
}
