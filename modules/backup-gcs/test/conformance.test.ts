import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { describeBackendConformance } from '@strata/conformance';
import { startGcsEmulator } from '@strata/testing';
import test from 'ava';

// The whole suite against a real GCS JSON API server (firebase-tools' emulator), the module loaded by
// path as ENABLE_MODULES loads it.
const emulator = await startGcsEmulator({ buckets: ['conformance'] });
await describeBackendConformance(test, {
  module: fileURLToPath(new URL('../../', import.meta.url)),
  env: emulator.env('conformance'),
});
// Declared after the suite: ava takes declarations only until the first await after one.
test.after.always(() => emulator.stop());
