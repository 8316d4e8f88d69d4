import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database, StagedClass } from '../../../src/db/index.js';

/** A fresh temporary directory, removed when the test ends. */
export async function tempDir(t: { teardown(fn: () => Promise<void>): void }, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Snapshots `names` of `db` into `staging` and copies the staged files into `restored`, laid out as a
 * data path: the staged classes a restore hands to attachClasses or holdRestored.
 */
export async function snapshotInto(
  db: Database,
  names: string[],
  staging: string,
  restored: string,
): Promise<StagedClass[]> {
  const snapshots = await db.snapshotClasses(names, staging);
  const staged: StagedClass[] = [];
  for (const snapshot of snapshots) {
    const shards = [];
    for (const shard of snapshot.shards) {
      const directory = join(restored, snapshot.definition.class.toLowerCase(), shard.name);
      await cp(join(staging, snapshot.definition.class.toLowerCase(), shard.name), directory, { recursive: true });
      shards.push({ name: shard.name, node: shard.node, directory });
    }
    staged.push({ definition: snapshot.definition, shards });
  }
  return staged;
}
