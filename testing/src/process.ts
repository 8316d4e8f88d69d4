import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Resolves with the match of the first line the child prints (stdout or stderr) that matches
 * `pattern`; rejects with everything it printed if it exits first.
 */
export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let output = '';
    let found = false;
    // Keeps reading after the match, so a chatty child never blocks on a full pipe.
    const onData = (data: Buffer) => {
      if (found) return;
      output += data.toString();
      const match = pattern.exec(output);
      if (match !== null) {
        found = true;
        child.off('exit', onExit);
        resolve(match);
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`${child.spawnfile} exited (${code}) before printing ${pattern}:\n${output}`));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Listens on a free port of 127.0.0.1. */
export function listen(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
}

/** A local server running in a child process, with a scratch directory of its own. */
export interface ServerProcess {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** The scratch directory, removed on stop. */
  readonly directory: string;
  /** Kills the child and removes its directory. */
  stop(): Promise<void>;
}

/** Options of {@link startServerProcess}. */
export interface ServerProcessOptions {
  /** The entry file, relative to this package's compiled `src/`. */
  readonly entry: string;
  /** Arguments after the entry, given the scratch directory. */
  readonly args: (directory: string) => readonly string[];
  /** Node.js flags before the entry. */
  readonly nodeArgs?: readonly string[];
  /** Environment on top of this process's, given the scratch directory. */
  readonly env?: (directory: string) => Record<string, string>;
  /** Prefix of the scratch directory's name. */
  readonly name: string;
  /** The line the child prints once it listens, with the port as its first group. */
  readonly ready: RegExp;
}

/**
 * Starts a server entry of this package in a child process with a fresh scratch directory, waits for
 * its ready line, and kills it if this process exits first.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const directory = await mkdtemp(join(tmpdir(), options.name));
  const entry = fileURLToPath(new URL(options.entry, import.meta.url));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), entry, ...options.args(directory)], {
    env: { ...process.env, ...options.env?.(directory) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const [, port] = await waitForLine(child, options.ready);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    async stop() {
      process.off('exit', killChild);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      killChild();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
