import 'reflect-metadata';
import type { ConfigSpec } from '@strata/core';
import { assertNoMarker, showSecrets, startGcsEmulator } from '@strata/testing';
import test from 'ava';
import gcs from '../src/index.js';
import { moduleDir } from './helpers.js';

// backup-gcs reads no secret from the environment (GOOGLE_APPLICATION_CREDENTIALS names a file), so
// the secret looked for here is the node's API key. A secret variable added later gets a marker here.
test('backup-gcs declares no secret variable', (t) => {
  const secret = Object.values(gcs.config as ConfigSpec).filter((variable) => variable.secret === true);
  t.deepEqual(secret, [], 'a new secret variable needs a marker in this file');
});

test('a backup and restore through the emulator show no secret in logs, /v1/meta or strata modules', async (t) => {
  const emulator = await startGcsEmulator({ buckets: ['backups'] });
  t.teardown(() => emulator.stop());
  const shown = await showSecrets(t, { moduleDir, env: emulator.env('backups') }, 'gcs');
  t.is(shown.backup, 'SUCCESS');
  t.like(shown.loadedConfig, { bucket: 'backups' });
  assertNoMarker(t, shown.text, []);
});
