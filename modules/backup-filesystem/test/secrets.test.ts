import 'reflect-metadata';
import { join } from 'node:path';
import type { ConfigSpec } from '@strata/core';
import { assertNoMarker, showSecrets } from '@strata/testing';
import test from 'ava';
import filesystem from '../src/index.js';
import { packageDir, temporaryDir } from './helpers.js';

// backup-filesystem reads no secret, so the secret looked for here is the node's API key. A secret
// variable added later gets a marker here.
test('backup-filesystem declares no secret variable', (t) => {
  const secret = Object.values(filesystem.config as ConfigSpec).filter((variable) => variable.secret === true);
  t.deepEqual(secret, [], 'a new secret variable needs a marker in this file');
});

test('a backup and restore show no secret in logs, /v1/meta or strata modules', async (t) => {
  const dir = await temporaryDir(t.teardown);
  const env = { BACKUP_FILESYSTEM_PATH: join(dir, 'backups') };
  const shown = await showSecrets(t, { moduleDir: packageDir, env }, 'filesystem');
  t.is(shown.backup, 'SUCCESS');
  t.like(shown.loadedConfig, { path: join(dir, 'backups') });
  assertNoMarker(t, shown.text, []);
});
