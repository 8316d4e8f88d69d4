import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StrataNode } from '../../src/node/index.js';
import { capturedLogger } from './logs.js';
import { strataBin } from './run-cli.js';

/** A node started for one test on a fresh data path and a free port, with its log lines captured. */
export interface TestNode {
  readonly node: StrataNode;
  readonly url: string;
  readonly dataPath: string;
  /** Every log line written so far, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  /** Sends a request to the node's API (JSON in and out); `body` is sent as given when a string. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  stop(): Promise<void>;
}

export interface Reply {
  readonly status: number;
  /** The parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON replies field by field.
  readonly body: any;
}

export async function request(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text === '' ? undefined : text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed };
}

/** Starts a node in this process; it is stopped and its data removed after the test. */
export async function startNode(
  t: { teardown(fn: () => Promise<void>): void },
  env: Record<string, string> = {},
  options: { dataPath?: string } = {},
): Promise<TestNode> {
  const dataPath = options.dataPath ?? (await mkdtemp(join(tmpdir(), 'strata-node-')));
  if (options.dataPath === undefined) t.teardown(() => rm(dataPath, { recursive: true, force: true }));
  const { logger, logs } = capturedLogger('info');
  const node = await StrataNode.start({
    env: { PERSISTENCE_DATA_PATH: dataPath, ...env },
    port: 0,
    logger,
  });
  t.teardown(() => node.stop());
  return {
    node,
    url: node.url,
    dataPath,
    logs,
    request: (method, path, body, headers) => request(node.url, method, path, body, headers),
    stop: () => node.stop(),
  };
}

/** A `strata serve --port 0` child process, once it listens. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it printed on stdout so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** Runs the real `strata serve` in a child process with exactly `env` (plus PATH); killed after the test. */
export async function serveInChild(
  t: { teardown(fn: () => void): void },
  env: Record<string, string>,
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [strataBin, 'serve', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // Also when the test times out, which skips teardowns: a leftover child would hold the output pipe.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  t.teardown(() => {
    process.off('exit', kill);
    kill();
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`strata serve exited (${code}) before listening:\n${output}`)));
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /Strata node listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
  });
  return { child, url, output: () => output, exited };
}
