import { describeBackendConformance } from '@strata/conformance';
import test from 'ava';
import { memfs } from 'memfs';
import { type BackendFs, FilesystemBackend } from '../src/index.js';

// The whole suite against memfs: the backend only uses the injected filesystem.
describeBackendConformance(test, {
  async createBackend() {
    const { fs } = memfs({});
    const backend = new FilesystemBackend({ root: '/backups', fs: fs as unknown as BackendFs });
    await backend.init();
    return { backend, alternatePath: '/elsewhere' };
  },
});
