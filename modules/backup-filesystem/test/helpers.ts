import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** This package's directory (tests run from dist/test). */
export const packageDir = fileURLToPath(new URL('../../', import.meta.url));

/** A temporary directory removed after the test. */
export async function temporaryDir(teardown: (fn: () => Promise<void>) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-fs-'));
  teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An application directory with @strata/backup-filesystem installed (linked), as a user's would be. */
export async function appWithModule(dir: string): Promise<string> {
  const app = join(dir, 'app');
  await mkdir(join(app, 'node_modules', '@strata'), { recursive: true });
  await writeFile(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}');
  await symlink(packageDir, join(app, 'node_modules', '@strata', 'backup-filesystem'), 'dir');
  return app;
}

const crashWriter = fileURLToPath(new URL('./fixtures/crash-writer.js', import.meta.url));

/** Resolves once a write's temporary file in `dir` holds at least `bytes`. */
export async function untilPartialHolds(dir: string, bytes: number): Promise<void> {
  for (let written = 0; written < bytes; await sleep(10)) {
    const partials = (await readdir(dir).catch(() => [])).filter((name) => name.startsWith('.strata-partial-'));
    written = partials.length === 0 ? 0 : (await stat(join(dir, partials[0] as string))).size;
  }
}

/**
 * Starts a process writing `key` under `root` endlessly through the backend, waits until at least
 * `bytes` reached the disk, then SIGKILLs it: a node that dies mid-write.
 */
export async function crashMidWrite(root: string, key: string, bytes: number): Promise<void> {
  const child = spawn(process.execPath, [crashWriter, root, key], { stdio: 'inherit' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await untilPartialHolds(join(root, ...key.split('/').slice(0, -1)), bytes);
  child.kill('SIGKILL');
  await exited;
}
