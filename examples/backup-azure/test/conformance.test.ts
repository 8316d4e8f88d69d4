import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { describeBackendConformance } from '@strata/conformance';
import { startAzurite, startEtcd } from '@strata/testing';
import test from 'ava';

// The whole suite against a real Azure Blob Storage emulator (azurite), the module loaded by path as
// ENABLE_MODULES loads it.
const azurite = await startAzurite({ containers: ['conformance'] });
// A fresh etcd for the journey through a cluster of three nodes, which every external provider runs.
const etcd = await startEtcd();
await describeBackendConformance(test, {
  module: fileURLToPath(new URL('../../', import.meta.url)),
  env: azurite.env('conformance'),
  cluster: { etcdEndpoints: [etcd.endpoint] },
});
// Declared after the suite: ava takes declarations only until the first await after one.
test.after.always(async () => {
  await azurite.stop();
  await etcd.stop();
});
