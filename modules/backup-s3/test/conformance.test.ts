import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { describeBackendConformance } from '@strata/conformance';
import { startEtcd, startS3Server } from '@strata/testing';
import test from 'ava';

// The whole suite against a real S3 server (s3rver), the module loaded by path as ENABLE_MODULES loads it.
const server = await startS3Server({ buckets: ['conformance'] });
// A fresh etcd for the journey through a cluster of three nodes, which every external provider runs.
const etcd = await startEtcd();
await describeBackendConformance(test, {
  module: fileURLToPath(new URL('../../', import.meta.url)),
  env: server.env('conformance'),
  cluster: { etcdEndpoints: [etcd.endpoint] },
});
// Declared after the suite: ava takes declarations only until the first await after one.
test.after.always(async () => {
  await server.stop();
  await etcd.stop();
});
