import { join } from 'node:path';
import { StoreLockedError } from '../errors.js';
import { LOCK_FILE } from './filenames.js';
import type { StoreFs } from './vfs.js';

/** Directories this process has open, per filesystem, so a second open in this process is refused too. */
const openHere = new WeakMap<StoreFs, Set<string>>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims a store directory by writing the process id to `LOCK`. A lock whose process no longer runs
 * is stale (its holder crashed) and is taken over. Returns the function that releases it.
 *
 * @throws StoreLockedError (or what `locked` makes of the holder) when a live process, or this one,
 * holds the directory. Releasing is idempotent.
 */
export function acquireLock(
  fs: StoreFs,
  dir: string,
  locked: (holder: string) => Error = (holder) => new StoreLockedError(dir, holder),
): () => void {
  const path = join(dir, LOCK_FILE);
  const open = openHere.get(fs) ?? new Set<string>();
  openHere.set(fs, open);
  if (open.has(dir)) throw locked(`this process (pid ${process.pid}), which has it open already`);
  for (;;) {
    let fd: number;
    try {
      fd = fs.openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(fs.readFileSync(path).toString('utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw locked(`process ${holder} (see ${path})`);
      }
      fs.unlinkSync(path); // stale: left by a process that is gone
      continue;
    }
    const pid = Buffer.from(String(process.pid));
    fs.writeSync(fd, pid, 0, pid.length, 0);
    fs.closeSync(fd);
    open.add(dir);
    let held = true;
    // Releasing twice must not delete a lock another process has taken since.
    return () => {
      if (!held) return;
      held = false;
      open.delete(dir);
      fs.unlinkSync(path);
    };
  }
}
