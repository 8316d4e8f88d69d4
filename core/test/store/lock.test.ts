import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { StrataError } from '../../src/errors.js';
import { acquireLock, LsmStore, realFs } from '../../src/store/index.js';

const holder = fileURLToPath(new URL('./fixtures/hold-store.js', import.meta.url));

test('a second open of a directory in the same process is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-lock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await LsmStore.open(dir);
  const error = (await LsmStore.open(dir).catch((e: unknown) => e)) as StrataError;
  t.is(error.code, 'STRATA_STORE_LOCKED');
  t.is(
    error.message,
    `store directory ${dir} is in use by this process (pid ${process.pid}), which has it open already. ` +
      'Stop that process (or close the store) first; only one may open a store directory at a time.',
  );
  await store.close();
  await t.notThrowsAsync(async () => (await LsmStore.open(dir)).close(), 'closing releases the directory');
});

test('a directory held by another live process is refused; once that process dies, its stale lock is taken over', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-lock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [holder, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  t.is((await readFile(join(dir, 'LOCK'), 'utf8')).trim(), String(child.pid));

  const error = (await LsmStore.open(dir).catch((e: unknown) => e)) as StrataError;
  t.is(error.code, 'STRATA_STORE_LOCKED');
  t.true(
    error.message.startsWith(`store directory ${dir} is in use by process ${child.pid} (see ${join(dir, 'LOCK')})`),
  );

  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const store = await LsmStore.open(dir);
  t.is((await readFile(join(dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
  await store.close();
});

test('releasing a lock twice leaves alone the lock a later holder took', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-lock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const release = acquireLock(realFs, dir);
  release();
  const releaseAgain = acquireLock(realFs, dir);
  release();
  t.is(await readFile(join(dir, 'LOCK'), 'utf8'), String(process.pid), 'the second holder still has its LOCK file');
  t.throws(() => acquireLock(realFs, dir), { code: 'STRATA_STORE_LOCKED' });
  releaseAgain();
});
