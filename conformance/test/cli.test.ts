import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { main } from '../src/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
const packageDir = fileURLToPath(new URL('../../', import.meta.url));
const strataBin = fileURLToPath(new URL('../../node_modules/@strata/core/bin/strata.js', import.meta.url));

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await main(argv, {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    });
    return { code, stdout, stderr };
  } finally {
    for (const key of Object.keys(env)) if (saved[key] === undefined) delete process.env[key];
  }
}

test.serial('strata-conformance prints each check and a summary, and exits 0 when all pass', async (t) => {
  const { code, stdout } = await run([
    fixture('backup-memory'),
    '--grep',
    'delete(key) of a missing key',
    '--no-journey',
  ]);
  t.is(code, 0, stdout);
  t.regex(stdout, /^Conformance of .*backup-memory\n/);
  t.regex(stdout, / {2}✔ \[raw\] delete\(key\) of a missing key succeeds \(\d+\.\d s\)\n/);
  t.regex(stdout, / {2}✔ \[scope\.path\] delete\(key\) of a missing key succeeds/);
  t.regex(stdout, /- skipped: the journey through a Strata node \(option journey\)\n/);
  t.regex(stdout, /- skipped: the journey through a cluster of three Strata nodes \(option journey\)\n/);
  t.regex(stdout, /\n2 passed, 0 failed, 2 skipped\n$/);
});

test.serial('a failing check is marked with what the backend did wrong, and the exit code is 1', async (t) => {
  const { code, stdout } = await run([fixture('backup-memory'), '--grep', 'of a key never written', '--no-journey'], {
    MEMORY_BACKEND_DEFECT: 'untyped-not-found',
  });
  t.is(code, 1);
  t.regex(
    stdout,
    /✘ \[raw\] read\(key\) of a key never written rejects with NotFoundError .*\n {4}read\(".+"\) of a missing key must reject with NotFoundError/,
  );
  t.regex(stdout, /\n0 passed, 2 failed, 2 skipped\n$/);
});

test.serial('skipped checks name the capability that gated them; --strict makes them fail', async (t) => {
  const args = [fixture('backup-memory-local'), '--grep', 'delete(key) of a missing key'];
  const relaxed = await run(args);
  t.is(relaxed.code, 0, relaxed.stdout);
  t.regex(relaxed.stdout, /- skipped: every check under scope\.path, and isolation \(capability pathScope\)/);
  t.regex(relaxed.stdout, /- skipped: a second instance sees the first one's objects \(capability external\)/);
  const strict = await run([...args, '--strict']);
  t.is(strict.code, 1);
  t.regex(strict.stdout, /--strict: skipped checks count as failures\n$/);
});

test.serial('--strict does not count checks of an optional method the module leaves out', async (t) => {
  // An etcd keeps the cluster journey from being skipped; --grep leaves it out, so none need answer there.
  const { code, stdout } = await run(
    [fixture('backup-memory'), '--grep', 'delete(key) of a missing key', '--strict', '--etcd', 'http://127.0.0.1:9'],
    { MEMORY_BACKEND_DISCARDS: 'false' },
  );
  t.is(code, 0, stdout);
  t.regex(stdout, /- skipped: discarding what interrupted writes left \(method discardPartialWrites, optional\)\n/);
  t.regex(stdout, /\n2 passed, 0 failed, 1 skipped\n$/);
});

test.serial('without --etcd, the cluster journey of an external module is skipped, naming the option', async (t) => {
  const args = [fixture('backup-memory'), '--grep', 'delete(key) of a missing key'];
  const relaxed = await run(args);
  t.is(relaxed.code, 0, relaxed.stdout);
  t.regex(relaxed.stdout, /- skipped: the journey through a cluster of three Strata nodes \(option cluster\)\n/);
  t.is((await run([...args, '--strict'])).code, 1, 'a provider that never ran it is not conformant under --strict');
  const empty = await run([...args, '--etcd', ' , ']);
  t.is(empty.code, 2);
  t.regex(empty.stderr, /--etcd needs at least one URL/);
});

test.serial('a module that does not load, or bad usage, exits 2 and says why', async (t) => {
  const missing = await run(['backup-nowhere']);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /^strata-conformance: backup-nowhere could not be tested: .*backup-nowhere/);
  const none = await run([]);
  t.is(none.code, 2);
  t.regex(none.stderr, /give exactly one module/);
  const unknown = await run(['x', '--frobnicate']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /Unknown option '--frobnicate'/);
});

test('strata conformance runs the same suite from an application that has @strata/conformance', async (t) => {
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [strataBin, 'conformance', fixture('backup-memory'), '--grep', 'homePath(id)', '--no-journey'],
      { cwd: packageDir },
      (error, out) => resolve({ code: error === null ? 0 : Number(error.code), stdout: out }),
    );
  });
  t.is(code, 0, stdout);
  t.regex(stdout, /\n2 passed, 0 failed, 2 skipped\n$/);
});
