/**
 * A Strata node as a `strata serve` child process, so its memory (VmHWM) is its own and not the
 * benchmark's, and the REST calls the backup benchmarks make to it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForLine } from '@strata/testing';

/** The bench package's directory: the node resolves ENABLE_MODULES from there. */
const appDir = fileURLToPath(new URL('../../', import.meta.url));
export const strataBin = join(
  dirname(createRequire(import.meta.url).resolve('@strata/core/package.json')),
  'bin',
  'strata.js',
);

/** A running `strata serve` child. */
export interface Child {
  readonly process: ChildProcess;
  readonly url: string;
}

/**
 * Starts `strata serve` on a free port over `dataPath`, with `env` (modules and their variables) on
 * top of PATH alone, so nothing from the caller's environment leaks in.
 */
export async function serve(dataPath: string, env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, [strataBin, 'serve', '--port', '0'], {
    cwd: appDir,
    env: {
      PATH: process.env.PATH,
      PERSISTENCE_DATA_PATH: dataPath,
      LOG_LEVEL: 'info', // as in production: one line per request
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  // waitForLine goes on reading stdout after the match: the request log is drained, not kept.
  const [, url] = await waitForLine(child, /Strata node listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { process: child, url: url as string };
}

/** Stops the child with SIGTERM and waits for it to exit (before its data directory is removed). */
export async function stop(child: Child): Promise<void> {
  const stopped = new Promise((resolve) => child.process.once('exit', resolve));
  child.process.kill('SIGTERM');
  await stopped;
}

/** One REST call; throws on any status but 2xx, with the reply in the message. */
// biome-ignore lint/suspicious/noExplicitAny: the benchmark reads JSON replies field by field.
export async function api(child: Child, method: string, path: string, body?: unknown): Promise<any> {
  const send = () =>
    fetch(`${child.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  // A minute of peers running leaves the keep-alive socket idle as long as the node's keep-alive
  // timeout (72 s): the node may close it as the next request goes out on it. Nothing was received
  // then, so it is sent again, once, on a new socket.
  const response = await send().catch((error: unknown) => {
    if ((error as { cause?: { code?: string } }).cause?.code !== 'UND_ERR_SOCKET') throw error;
    return send();
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/**
 * Polls a backup or restore status at `path` every `intervalMs` until SUCCESS; throws on FAILED or
 * CANCELED. Each poll costs the node a request and a log line, so long runs poll less often.
 */
export async function finished(child: Child, path: string, intervalMs = 5): Promise<void> {
  for (;;) {
    const status = await api(child, 'GET', path);
    if (status.status === 'SUCCESS') return;
    if (status.status === 'FAILED' || status.status === 'CANCELED')
      throw new Error(`${path}: ${status.status} ${status.error}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Peak resident set size (VmHWM) of process `pid` so far, in bytes. */
export async function peakRss(pid: number | 'self' | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

/** CPU time (user and system, in ms) process `pid` has used so far. */
async function cpuMs(pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

/**
 * Waits until the child is idle: under 20 ms of CPU in half a second (at most 60 s). A timed step
 * starts on a quiet node, as each peer starts on a quiet machine, rather than on the tail of what the
 * step before left running: compactions as a store opens, the removal of a deleted class's files.
 */
export async function settled(child: Child): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (let before = await cpuMs(child.process.pid); performance.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = await cpuMs(child.process.pid);
    if (now - before < 20) return;
    before = now;
  }
}
