import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackendConformance } from '@strata/conformance';
import test from 'ava';
import { FilesystemBackend } from '../src/index.js';

// The whole suite against the real filesystem: a fresh temporary directory per test.
describeBackendConformance(test, {
  async createBackend() {
    const dir = await mkdtemp(join(tmpdir(), 'strata-fs-conformance-'));
    const backend = new FilesystemBackend({ root: join(dir, 'backups') });
    await backend.init();
    return { backend, alternatePath: join(dir, 'elsewhere'), cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
});
