import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { describeBackendConformance } from '@strata/conformance';
import test from 'ava';
import { memfs } from 'memfs';
import { container } from 'tsyringe';
import { FILESYSTEM_FS } from '../src/index.js';

// The whole suite against memfs, injected through the container: the module never touches node:fs.
const parent = container.createChildContainer();
parent.register(FILESYSTEM_FS, { useValue: memfs({}).fs });

await describeBackendConformance(test, {
  module: fileURLToPath(new URL('../../', import.meta.url)),
  env: { BACKUP_FILESYSTEM_PATH: '/backups' },
  container: parent,
  inMemory: true,
});
