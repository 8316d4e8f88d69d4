import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { describeBackendConformance } from '@strata/conformance';
import { startEtcd, startGcsEmulator } from '@strata/testing';
import test from 'ava';

// The whole suite against a real GCS JSON API server (firebase-tools' emulator), the module loaded by
// path as ENABLE_MODULES loads it.
const emulator = await startGcsEmulator({ buckets: ['conformance'] });
// A fresh etcd for the journey through a cluster of three nodes, which every external provider runs.
const etcd = await startEtcd();
await describeBackendConformance(test, {
  module: fileURLToPath(new URL('../../', import.meta.url)),
  env: emulator.env('conformance'),
  cluster: { etcdEndpoints: [etcd.endpoint] },
});
// Declared after the suite: ava takes declarations only until the first await after one.
test.after.always(async () => {
  await emulator.stop();
  await etcd.stop();
});
