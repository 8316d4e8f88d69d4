import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { describeBackendConformance } from '@strata/conformance';
import { startAzurite } from '@strata/testing';
import test from 'ava';

// The whole suite against a real Azure Blob Storage emulator (azurite), the module loaded by path as
// ENABLE_MODULES loads it.
const azurite = await startAzurite({ containers: ['conformance'] });
await describeBackendConformance(test, {
  module: fileURLToPath(new URL('../../', import.meta.url)),
  env: azurite.env('conformance'),
});
// Declared after the suite: ava takes declarations only until the first await after one.
test.after.always(() => azurite.stop());
