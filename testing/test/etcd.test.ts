import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { type Etcd, startEtcd, waitForLine } from '../src/index.js';

const base64 = (text: string) => Buffer.from(text).toString('base64');

/** Puts `key` through etcd's v3 HTTP/JSON gateway. */
async function put(etcd: Etcd, key: string, value: string): Promise<void> {
  const response = await fetch(`${etcd.endpoint}/v3/kv/put`, {
    method: 'POST',
    body: JSON.stringify({ key: base64(key), value: base64(value) }),
  });
  if (response.status !== 200) throw new Error(`put ${key}: ${response.status} ${await response.text()}`);
}

/** Reads `key` through the gateway; undefined when it is absent. */
async function get(etcd: Etcd, key: string): Promise<string | undefined> {
  const response = await fetch(`${etcd.endpoint}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: base64(key) }),
  });
  const { kvs } = (await response.json()) as { kvs?: { value: string }[] };
  const value = kvs?.[0]?.value;
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
}

/** True while `pid` is a live process (a zombie left to a container's init counts as gone). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits up to `ms` for `pid` to be gone; true if it is. */
async function gone(pid: number, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(pid) && Date.now() < deadline) await sleep(20);
  return !isRunning(pid);
}

/** Calls startEtcd with STRATA_ETCD_BIN set to `bin`, restored before anything else runs. */
function startWithBin(bin: string): Promise<Etcd> {
  const saved = process.env.STRATA_ETCD_BIN;
  process.env.STRATA_ETCD_BIN = bin;
  try {
    return startEtcd();
  } finally {
    if (saved === undefined) delete process.env.STRATA_ETCD_BIN;
    else process.env.STRATA_ETCD_BIN = saved;
  }
}

test('a key put through the v3 gateway reads back', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  t.regex(etcd.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.deepEqual(await (await fetch(`${etcd.endpoint}/health`)).json(), { health: 'true' });
  await put(etcd, 'strata/a', 'first');
  t.is(await get(etcd, 'strata/a'), 'first');
  t.is(await get(etcd, 'strata/missing'), undefined);
});

test('restart() keeps the endpoint and the data, in a new process', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const { endpoint, pid } = etcd;
  await put(etcd, 'kept', 'across a restart');
  await etcd.restart();
  t.is(etcd.endpoint, endpoint);
  t.not(etcd.pid, pid);
  t.false(isRunning(pid ?? 0), 'the first process is gone');
  t.is(await get(etcd, 'kept'), 'across a restart');
});

test('kill() crashes etcd; restart() brings it back with its data', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  await put(etcd, 'kept', 'across a crash');
  const pid = etcd.pid ?? 0;
  await etcd.kill();
  t.is(etcd.pid, undefined);
  t.false(isRunning(pid));
  await t.throwsAsync(fetch(`${etcd.endpoint}/health`), undefined, 'nothing listens while it is down');
  await etcd.restart();
  t.is(await get(etcd, 'kept'), 'across a crash');
});

test('stop() leaves no process and no data directory, and is safe to call twice', async (t) => {
  const etcd = await startEtcd();
  const pid = etcd.pid ?? 0;
  t.true(isRunning(pid));
  t.true(existsSync(etcd.directory));
  await etcd.stop();
  t.false(isRunning(pid));
  t.false(existsSync(etcd.directory));
  await etcd.stop();
  await t.throwsAsync(etcd.restart(), { message: /was stopped/ });
});

test('two launchers at once get different ports', async (t) => {
  const [one, two] = await Promise.all([startEtcd(), startEtcd()]);
  t.teardown(() => Promise.all([one.stop(), two.stop()]));
  t.not(one.endpoint, two.endpoint);
  t.not(one.directory, two.directory);
  await put(one, 'who', 'one');
  await put(two, 'who', 'two');
  t.is(await get(one, 'who'), 'one');
  t.is(await get(two, 'who'), 'two');
});

test('a STRATA_ETCD_BIN that does not exist fails with how to install etcd', async (t) => {
  const error = await t.throwsAsync(startWithBin('/nonexistent/etcd'));
  t.regex(error?.message ?? '', /`\/nonexistent\/etcd` \(from STRATA_ETCD_BIN\) was not found/);
  t.regex(error?.message ?? '', /apt-get install etcd-server/);
  t.regex(error?.message ?? '', /set STRATA_ETCD_BIN to the path of an etcd binary/);
});

test('etcd ending before it is ready fails with the end of what it printed', async (t) => {
  const error = await t.throwsAsync(startEtcd({ args: ['--no-such-flag'] }));
  t.regex(error?.message ?? '', /ended \(exit code \d+\) before it was ready/);
  t.regex(error?.message ?? '', /no-such-flag/, "etcd's own words");
});

test('restart() on a port taken in the meantime fails with etcd saying so', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  await etcd.kill();
  const squatter = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => squatter.listen(Number(new URL(etcd.endpoint).port), '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => squatter.close(() => resolve(undefined))));
  await t.throwsAsync(etcd.restart(), { message: /address already in use/ });
});

test('etcd does not outlive a test process that is SIGKILLed', async (t) => {
  const orphan = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/orphan-etcd.js', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [, pid, directory] = await waitForLine(orphan, /^etcd (\d+) (\S+)$/m);
  t.teardown(() => rm(directory ?? '', { recursive: true, force: true }));
  t.true(isRunning(Number(pid)));
  orphan.kill('SIGKILL');
  t.true(await gone(Number(pid)), `etcd ${pid} still runs after its parent died`);
});
