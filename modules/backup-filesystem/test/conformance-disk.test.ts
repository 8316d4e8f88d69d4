import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBackendConformance } from '@strata/conformance';
import test from 'ava';

// The whole suite against the real filesystem, the module loaded by path as ENABLE_MODULES loads it.
const dir = await mkdtemp(join(tmpdir(), 'strata-fs-conformance-'));
await describeBackendConformance(test, {
  module: fileURLToPath(new URL('../../', import.meta.url)),
  env: { BACKUP_FILESYSTEM_PATH: join(dir, 'backups') },
});
// Declared after the suite: ava takes declarations only until the first await after one.
test.after.always(() => rm(dir, { recursive: true, force: true }));
