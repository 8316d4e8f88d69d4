/**
 * A backup's capture of classes while writes carry on: per shard, the files of its flushed state
 * hard-linked into a staging directory laid out as a data path, with compaction paused only for as
 * long as the linking takes.
 */
import { dirname, join } from 'node:path';
import type { ClassDefinition } from './class-definition.js';
import type { DataFs } from './data-fs.js';
import { shardDirectory, shardFilePath } from './data-path.js';
import { isStoreFilePath, STORE_FILE_PATH_RULE } from './names.js';
import type { SchemaRegistry } from './schema-registry.js';

/** A class as a backup captures it: its definition and, per shard, the files of its flushed state. */
export interface ClassSnapshot {
  readonly definition: ClassDefinition;
  readonly shards: ReadonlyArray<{
    readonly name: string;
    readonly node: string;
    /** `path` is relative to the data path ("/" separators); `source` is the staged hard link. */
    readonly files: ReadonlyArray<{ readonly path: string; readonly source: string; readonly size: number }>;
  }>;
}

/** Hard-links `from` to `to`, or copies it where the filesystem cannot link (another device, no support). */
function linkOrCopy(fs: DataFs, from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

/**
 * Captures classes for a backup without stopping writes: per shard, flushes the store, pauses its
 * compaction for as long as it takes to hard-link the listed immutable files into `stagingDir`
 * (copies where the filesystem cannot link), then resumes it, whether the linking worked or not.
 * Each shard's files are a consistent state holding every write acknowledged before its flush.
 * Deleting a class waits for its snapshot to finish; the staged links survive the deletion.
 * @throws ClassNotFoundError, or what the filesystem throws.
 */
export async function snapshotClasses(
  schema: SchemaRegistry,
  fs: DataFs,
  names: readonly string[],
  stagingDir: string,
): Promise<ClassSnapshot[]> {
  const snapshots: ClassSnapshot[] = [];
  for (const name of names) {
    snapshots.push(
      await schema.use(name, async (live) => {
        const className = live.record.definition.class;
        const shards = [];
        for (const shard of live.shards) {
          const staged = shardDirectory(stagingDir, className, shard.name);
          await shard.store.flush();
          await shard.store.pauseCompaction();
          try {
            const files = (await shard.store.listFiles()).map((file) => {
              // Checked here, not only on restore: a backup no restore would accept is no backup.
              if (!isStoreFilePath(file.path)) {
                throw new TypeError(
                  `the store of shard ${shard.name} lists the file ${JSON.stringify(file.path)}: a backup can ` +
                    `only carry ${STORE_FILE_PATH_RULE}`,
                );
              }
              const path = shardFilePath(className, shard.name, file.path);
              const source = join(staged, ...file.path.split('/'));
              fs.mkdirSync(dirname(source), { recursive: true });
              linkOrCopy(fs, join(shard.store.directory, file.path), source);
              return { path, source, size: file.size };
            });
            fs.mkdirSync(staged, { recursive: true });
            shards.push({ name: shard.name, node: shard.node, files });
          } finally {
            shard.store.resumeCompaction();
          }
        }
        return { definition: live.record.definition, shards };
      }),
    );
  }
  return snapshots;
}
