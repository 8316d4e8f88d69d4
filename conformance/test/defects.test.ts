import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { startEtcd } from '@strata/testing';
import test from 'ava';
import { runConformance } from '../src/index.js';
import type { Defect } from './memory-module.js';

const memoryModule = fileURLToPath(new URL('../../test/fixtures/backup-memory', import.meta.url));

/** Each defect, and the check (by a part of its title) meant to catch it. */
const caughtBy: ReadonlyArray<[Exclude<Defect, 'none'>, string]> = [
  ['untyped-not-found', 'read(key) of a key never written rejects with NotFoundError'],
  ['truncates-large-objects', 'an object over 64 MiB round-trips byte for byte'],
  ['ignores-scope-path', 'objects written under scope.path and under the configured root are invisible'],
  ['lists-unsorted', 'list(prefix) returns every matching key once, in byte order'],
  ['drops-a-key-past-1000', 'list() is complete across pagination boundaries'],
  ['keeps-failed-writes', 'a write whose source stream fails rejects and leaves nothing under the key'],
  ['delete-of-missing-throws', 'delete(key) of a missing key succeeds'],
  ['accepts-unsafe-keys', 'refuse unsafe keys with InvalidKeyError'],
  ['leaves-access-probe', 'checkAccess() resolves on a usable backend and leaves nothing behind'],
  ['home-path-without-id', 'homePath(id) ends with the backup id'],
  ['instances-not-shared', 'a second instance of the module (another node) reads'],
  ['logs-its-token', 'secrets: no value of a secret variable shows'],
  ['quotes-its-token', 'secrets: no value of a secret variable shows'],
  ['discards-finished-objects', "discardPartialWrites(prefix) removes an unfinished write's leftovers"],
  ['discard-counts-finished-objects', "discardPartialWrites(prefix) removes an unfinished write's leftovers"],
  ['discard-leaves-half-objects', 'fails or completes whole, never half'],
  ['discards-outside-prefix', 'discardPartialWrites(prefix) touches nothing outside the prefix'],
  ['discard-accepts-any-prefix', 'discardPartialWrites() refuses prefixes'],
];

const TOKEN = 'memory-token-1b7e5a';

for (const [defect, check] of caughtBy) {
  test(`a backend whose defect is "${defect}" fails "${check}"`, async (t) => {
    const report = await runConformance({
      module: memoryModule,
      env: { MEMORY_BACKEND_DEFECT: defect, MEMORY_BACKEND_TOKEN: TOKEN },
      inMemory: true,
      journey: false,
      grep: check,
    });
    t.true(report.results.length > 0, `no check matches "${check}"`);
    const failed = report.results.filter((result) => !result.passed);
    t.true(failed.length > 0, `the suite let "${defect}" through: ${report.results.map((r) => r.title).join('; ')}`);
    t.log(failed[0]?.failures[0]);
  });
}

test('the secrets check names the variable and where it showed, never the value', async (t) => {
  const report = await runConformance({
    module: memoryModule,
    env: { MEMORY_BACKEND_DEFECT: 'logs-its-token', MEMORY_BACKEND_TOKEN: TOKEN },
    inMemory: true,
    journey: false,
    grep: 'secrets:',
  });
  const failures = report.results.flatMap((result) => result.failures).join('\n');
  t.regex(
    failures,
    /^the value of MEMORY_BACKEND_TOKEN shows in a log line: .*"header":"Bearer <MEMORY_BACKEND_TOKEN>"/,
  );
  t.false(failures.includes(TOKEN));
});

test('a backend that buffers whole objects fails the bounded-memory check, when the storage is not memory', async (t) => {
  const report = await runConformance({
    module: memoryModule,
    env: { MEMORY_BACKEND_DEFECT: 'buffers-whole-object' },
    journey: false,
    grep: '[raw] an object over 64 MiB round-trips byte for byte, in bounded memory',
  });
  t.is(report.results.length, 1);
  t.regex(
    report.results[0]?.failures.join('\n') ?? '',
    /^write\(\) held \d+ MiB of an 80 MiB object in memory at once/,
  );
});

test('a backend without discardPartialWrites has its checks skipped, as optional', async (t) => {
  const report = await runConformance({
    module: memoryModule,
    env: { MEMORY_BACKEND_DISCARDS: 'false' },
    inMemory: true,
    journey: false,
    grep: 'discardPartialWrites',
  });
  t.deepEqual(report.results, []);
  t.deepEqual(report.skipped, [
    { checks: 'bounded memory of large writes and reads', reason: 'option inMemory' },
    { checks: 'discarding what interrupted writes left', reason: 'method discardPartialWrites', optional: true },
    { checks: 'the journey through a Strata node', reason: 'option journey' },
    { checks: 'the journey through a cluster of three Strata nodes', reason: 'option journey' },
  ]);
});

test('a backend whose instances do not share their objects fails the cluster journey', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const report = await runConformance({
    module: memoryModule,
    env: { MEMORY_BACKEND_DEFECT: 'instances-not-shared' },
    inMemory: true,
    cluster: { etcdEndpoints: [etcd.endpoint] },
    grep: 'cluster journey:',
  });
  t.is(report.results.length, 1);
  t.false(report.results[0]?.passed, 'three nodes with storage of their own each passed for one cluster');
  t.log(report.results[0]?.failures[0]);
});
