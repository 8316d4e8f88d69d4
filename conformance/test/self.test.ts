import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { startEtcd } from '@strata/testing';
import test from 'ava';
import { describeBackendConformance } from '../src/index.js';

const memoryModule = fileURLToPath(new URL('../../test/fixtures/backup-memory', import.meta.url));

// The reference backend passes every check, both journeys included (its instances share one store,
// as a cluster's nodes share a bucket), and the secrets check has a secret to look for.
const etcd = await startEtcd();
const plan = await describeBackendConformance(test, {
  module: memoryModule,
  env: { MEMORY_BACKEND_TOKEN: 'memory-token-5c09d2' },
  inMemory: true,
  cluster: { etcdEndpoints: [etcd.endpoint] },
});
// Declared after the suite: ava takes declarations only until the first await after one.
test.after.always(() => etcd.stop());

test('the plan lists what was left out and why', (t) => {
  t.is(plan.module, 'backup-memory');
  t.deepEqual(plan.skipped, [{ checks: 'bounded memory of large writes and reads', reason: 'option inMemory' }]);
  t.true(
    plan.checks.some((title) => title.startsWith('[scope.path]')),
    'pathScope runs every check under scope.path',
  );
  t.true(
    plan.checks.some((title) => title.startsWith('a second instance')),
    'external registers the cluster check',
  );
  t.true(plan.checks.some((title) => title.startsWith('journey:')));
  t.true(
    plan.checks.some((title) => title.startsWith('cluster journey:')),
    'external and an etcd: the cluster journey',
  );
  t.true(plan.checks.some((title) => title.startsWith('secrets:')));
  for (const run of ['[raw]', '[scope.path]']) {
    t.is(
      plan.checks.filter((title) => title.startsWith(run) && title.includes('discardPartialWrites')).length,
      4,
      `the backend has discardPartialWrites: its checks run ${run}`,
    );
  }
});
