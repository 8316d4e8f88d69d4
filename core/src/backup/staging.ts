import { mkdir, open, rm, rmdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * Staging: the directories in the data path where a backup's snapshot links and a restore's
 * extracted files wait, named per operation, removed when it ends and on every start.
 */

const ROOTS = { backup: '.backup-staging', restore: '.restore-staging' } as const;

/**
 * Where an operation stages files: inside the data path, so a backup's hard links and a restore's
 * renames never cross devices. Created empty, whatever an earlier run left there.
 */
export async function createStaging(dataPath: string, kind: keyof typeof ROOTS, id: string): Promise<string> {
  const dir = join(dataPath, ROOTS[kind], id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Removes a staging directory, and its root once no other staging is in it. */
export async function removeStaging(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await rmdir(dirname(dir)).catch(() => {});
}

/** Removes every staging directory: on start-up, what is there was left by a crash. */
export async function clearStaging(dataPath: string): Promise<void> {
  for (const root of Object.values(ROOTS)) await rm(join(dataPath, root), { recursive: true, force: true });
}

/**
 * Where the `/`-separated `path` goes inside `staging`. Paths come from descriptors, which are
 * checked before a restore starts; this is the last line of defence, so a path that would resolve
 * anywhere but strictly inside `staging` throws instead of being joined.
 */
export function stagedPath(staging: string, path: string): string {
  const target = resolve(staging, ...path.split('/'));
  const inside = relative(staging, target);
  if (path.includes('\0') || inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new TypeError(`refusing to write ${JSON.stringify(path)} outside the staging directory`);
  }
  return target;
}

/** Fsyncs a staged file (written and closed by a chunk worker): its bytes survive a power loss. */
export async function syncStaged(staging: string, path: string): Promise<void> {
  const handle = await open(stagedPath(staging, path), 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
