/**
 * A restore's last step: classes whose shard directories were restored into staging become classes
 * of the node, all or none, with schema.json's rename as the commit point.
 */
import { ClassExistsError } from '../errors.js';
import { syncDirectory } from '../store/index.js';
import type { ClassDefinition } from './class-definition.js';
import { type DataPath, shardDirectory } from './data-path.js';
import { SHARD_NAME } from './names.js';
import type { LiveClass, SchemaRegistry } from './schema-registry.js';
import type { Shard } from './shard.js';

/** A class restored into a staging directory, ready to be attached. */
export interface StagedClass {
  readonly definition: ClassDefinition;
  /** `directory` holds the shard's files, as its store directory will. */
  readonly shards: ReadonlyArray<{ readonly name: string; readonly node: string; readonly directory: string }>;
}

/**
 * Attaches restored classes, all or none: moves each staged shard directory into place, opens its
 * store, then records every class in schema.json in one write (the commit point: a crash before it
 * leaves the schema as it was). If anything before it fails, the stores are closed, the directories
 * moved back and the schema left as it was. Names come from a backup, so the rollback deletes nothing
 * recursively: it removes only the (then empty) class directories this call created. Once schema.json
 * is renamed the classes stay attached, even if making the rename durable fails (that still rejects).
 * @throws ClassExistsError when a class exists (or is held for a restore) already, or what the filesystem or
 *   a store throws.
 */
export function attachClasses(schema: SchemaRegistry, path: DataPath, classes: readonly StagedClass[]): Promise<void> {
  const { fs } = path;
  return schema.change(async () => {
    for (const { definition, shards } of classes) {
      // A held class is as good as taken: its restore is on its way into the cluster's schema.
      if (schema.find(definition.class) !== undefined || schema.holds.has(definition.class)) {
        throw new ClassExistsError(definition.class);
      }
      const bad = shards.find((shard) => !SHARD_NAME.test(shard.name));
      if (bad !== undefined) throw new TypeError(`attachClasses: invalid shard name ${JSON.stringify(bad.name)}`);
    }
    const created: string[] = [];
    const moved: Array<{ from: string; to: string }> = [];
    const opened: LiveClass[] = [];
    try {
      for (const { definition, shards } of classes) {
        const stores: Shard[] = [];
        opened.push({
          record: { definition, shards: shards.map(({ name, node }) => ({ name, node })) },
          shards: stores,
        });
        const classDir = path.classDirectory(definition.class);
        if (!fs.existsSync(classDir)) {
          fs.mkdirSync(classDir);
          created.push(classDir);
        }
        for (const shard of shards) {
          const target = shardDirectory(path.root, definition.class, shard.name);
          fs.renameSync(shard.directory, target);
          moved.push({ from: shard.directory, to: target });
          stores.push(await path.openShard(definition.class, shard.name, shard.node));
        }
      }
      // The restored files were synced; make their new names durable before the schema names them.
      for (const { to } of moved) syncDirectory(fs, to);
      for (const { definition } of classes) syncDirectory(fs, path.classDirectory(definition.class));
      syncDirectory(fs, path.root);
      schema.add(opened);
    } catch (error) {
      await Promise.allSettled(opened.flatMap((live) => live.shards.map((shard) => shard.store.close())));
      for (const { from, to } of moved.reverse()) fs.renameSync(to, from);
      for (const dir of created.reverse()) fs.rmdirSync(dir);
      throw error;
    }
    // Past the commit point: moving the directories back now would leave schema.json naming empty shards.
    schema.sync();
  });
}
