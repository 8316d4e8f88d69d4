import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { main, runConformance } from '../src/index.js';
import type { Defect } from './memory-module.js';

const memoryModule = fileURLToPath(new URL('../../test/fixtures/backup-memory', import.meta.url));

/** Runs the checks whose title includes `grep` against a backend with `defect`, each within `seconds`. */
async function hung(defect: Defect, grep: string, seconds: number, journey = false) {
  const started = performance.now();
  const report = await runConformance({
    module: memoryModule,
    env: { MEMORY_BACKEND_DEFECT: defect },
    inMemory: true,
    journey,
    grep,
    deadlineSeconds: seconds,
  });
  return { report, elapsed: (performance.now() - started) / 1000 };
}

test('a check whose write never settles fails at its deadline, naming the write', async (t) => {
  const { report, elapsed } = await hung('write-never-settles', '[raw] write then read returns a tiny object', 0.3);
  t.is(report.results.length, 1);
  const [result] = report.results;
  t.false(result?.passed);
  t.is(result?.failures.length, 1, result?.failures.join('\n'));
  t.regex(
    result?.failures[0] ?? '',
    /^backend\.write\("strata-conformance-[0-9a-f]+\/check-[0-9a-f]+\/key-[0-9a-f]+"\) did not return within 0\.3 s$/,
  );
  t.true(elapsed < 10, `the check took ${elapsed} s, not about its deadline`);
});

test('a check whose listing never settles fails at its deadline, naming the list call', async (t) => {
  const { report, elapsed } = await hung('list-never-settles', '[scope.path] delete(key) of a missing key', 0.3);
  t.is(report.results.length, 1);
  t.false(report.results[0]?.passed);
  t.deepEqual(report.results[0]?.failures, ['backend.list("") did not return within 0.3 s']);
  t.true(elapsed < 10, `the check took ${elapsed} s, not about its deadline`);
});

test('a journey whose chunk uploads stall fails at its deadline, saying the status it was stuck at', async (t) => {
  const { report } = await hung('chunk-writes-stall', 'journey: a node backs up classes', 5, true);
  t.is(report.results.length, 1);
  const failures = report.results[0]?.failures ?? [];
  t.false(report.results[0]?.passed);
  t.true(
    failures.some((line) =>
      /^backend\.write\("journey-[0-9a-f]+\/node1\/Conformance\w+\/chunk-\d+"\) did not return within 5 s/.test(line),
    ),
    failures.join('\n'),
  );
  t.true(
    failures.some((line) =>
      /^GET \/v1\/backups\/backup-memory\/journey-[0-9a-f]+\?path=.+ still answered status TRANSFERRING at the deadline \(5 s\)$/.test(
        line,
      ),
    ),
    failures.join('\n'),
  );
});

test.serial('--deadline sets the deadline from the command line, and a bad one is a usage error', async (t) => {
  let stdout = '';
  let stderr = '';
  const output = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  };
  process.env.MEMORY_BACKEND_DEFECT = 'write-never-settles';
  t.teardown(() => {
    delete process.env.MEMORY_BACKEND_DEFECT;
  });
  const code = await main(
    [memoryModule, '--grep', '[raw] write then read returns an empty object', '--no-journey', '--deadline', '0.2'],
    output,
  );
  t.is(code, 1, stdout);
  t.regex(
    stdout,
    /✘ \[raw\] write then read returns an empty object .*\n {4}backend\.write\(".+"\) did not return within 0\.2 s\n/,
  );
  t.is(await main([memoryModule, '--deadline', 'soon'], output), 2);
  t.regex(stderr, /--deadline must be a number of seconds above 0, not "soon"/);
});

test('strata-conformance ends after its report even when a hung call holds the process open', async (t) => {
  const bin = fileURLToPath(new URL('../../bin/strata-conformance.js', import.meta.url));
  const args = [bin, memoryModule, '--grep', '[raw] write then read returns a tiny object', '--no-journey'];
  const started = performance.now();
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [...args, '--deadline', '0.3'],
      { env: { ...process.env, MEMORY_BACKEND_DEFECT: 'write-hangs-open' }, timeout: 60_000 },
      (error, out) => resolve({ code: error === null ? 0 : Number(error.code), stdout: out }),
    );
  });
  t.is(code, 1, stdout);
  t.regex(stdout, /did not return within 0\.3 s\n/);
  t.regex(stdout, /\n0 passed, 1 failed, 2 skipped\n$/);
  t.true(performance.now() - started < 30_000, 'the command ended soon after its report');
});
