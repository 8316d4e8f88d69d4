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
import type { HeldClass } from './shard-holds.js';

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
