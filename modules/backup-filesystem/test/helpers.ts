import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
