/**
 * A Strata cluster for tests and for trying it: a real etcd (etcd.ts) and N real `strata serve`
 * processes on free ports, each with its own data path. Each node can be killed, stopped and started
 * again with the same name, data path and public port, as a crashed or restarted machine would be.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Etcd, startEtcd } from './etcd.js';
import { jsonRequest, type Reply } from './node.js';
import { waitForLine } from './process.js';

/** One node of a {@link StrataCluster}: a `strata serve` child process. */
export interface ClusterNode {
  /** CLUSTER_HOSTNAME. */
  readonly name: string;
  readonly dataPath: string;
  /** `http://127.0.0.1:PORT` of the public API; the same across restarts. */
  readonly url: string;
  /** The process id while it runs. */
  readonly pid: number | undefined;
  /** The tail of what the current process printed (stdout and stderr). */
  output(): string;
  /** Sends a request to the node's public API (JSON in and out). */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** Sends `signal` (SIGKILL unless told) and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Sends `signal` and returns at once: SIGSTOP and SIGCONT, to freeze a node and let it go on. */
  signal(signal: NodeJS.Signals): void;
  /**
   * Starts the node again: same name, data path and port, with `env` on top of its own for this start
   * (an empty value unsets a variable). Resolves once it listens.
   */
  start(env?: Record<string, string>): Promise<void>;
}

/** A running cluster: its etcd and its nodes. */
export interface StrataCluster {
  readonly etcd: Etcd;
  readonly nodes: readonly ClusterNode[];
  /** The environment every node gets besides its name and data path (CLUSTER_ETCD_ENDPOINTS, ...). */
  readonly env: Readonly<Record<string, string>>;
  /** Starts one more node process with `name` and this cluster's environment (plus `env`); not added to `nodes`. */
  startNode(name: string, env?: Record<string, string>): Promise<ClusterNode>;
  /** Kills every node, then etcd, and removes their data. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** How many nodes, named node1, node2, ...; 3 unless told. */
  readonly nodes?: number;
  /** Variables for every node on top of the cluster's own (API keys, ENABLE_MODULES, ...). */
  readonly env?: Record<string, string>;
  /** CLUSTER_LEASE_TTL_SECONDS; 2 unless told, so a killed node is known dead quickly. */
  readonly leaseTtlSeconds?: number;
}

const OUTPUT_TAIL_CHARS = 16_000;

/** Node processes still running, killed if this process exits first (one listener for all of them). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
const strataBin = join(
  dirname(createRequire(import.meta.url).resolve('@strata/core/package.json')),
  'bin',
  'strata.js',
);

/** A node process that can be started again on the same port. */
class NodeProcess implements ClusterNode {
  readonly name: string;
  readonly dataPath: string;
  readonly #env: Record<string, string>;
  #port = 0;
  #child: ChildProcess | undefined;
  #ended: Promise<void> = Promise.resolve();
  #output = '';

  constructor(name: string, dataPath: string, env: Record<string, string>) {
    this.name = name;
    this.dataPath = dataPath;
    this.#env = env;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  output(): string {
    return this.#output;
  }

  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply> {
    return jsonRequest(this.url, method, path, body, headers);
  }

  async start(env: Record<string, string> = {}): Promise<void> {
    if (this.pid !== undefined) throw new Error(`${this.name} is running already`);
    const level = env.LOG_LEVEL ?? this.#env.LOG_LEVEL ?? 'info';
    if (!['trace', 'debug', 'info'].includes(level)) {
      throw new Error(`LOG_LEVEL=${level}: the launcher waits for the node's "listening" line, logged at info`);
    }
    this.#output = '';
    const child = spawn(process.execPath, [strataBin, 'serve', '--port', String(this.#port)], {
      env: {
        PATH: process.env.PATH ?? '',
        ...this.#env,
        ...env,
        CLUSTER_HOSTNAME: this.name,
        PERSISTENCE_DATA_PATH: this.dataPath,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const keep = (data: Buffer) => {
      this.#output = (this.#output + data.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    running.add(child);
    this.#ended = new Promise((resolve) => child.once('close', () => resolve()));
    void this.#ended.then(() => running.delete(child));
    const [, port] = await waitForLine(child, /Strata node listening on http:\/\/127\.0\.0\.1:(\d+)/);
    this.#port = Number(port);
  }

  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.pid === undefined) return;
    this.#child?.kill(signal);
    await this.#ended;
  }
}

/**
 * Starts etcd and `nodes` Strata nodes (node1, node2, ...) joined to it, each on a free public port and
 * a free internal port, and resolves once every node listens.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<StrataCluster> {
  const etcd = await startEtcd();
  const env: Record<string, string> = {
    CLUSTER_ETCD_ENDPOINTS: etcd.endpoint,
    CLUSTER_DATA_BIND_PORT: '0',
    CLUSTER_LEASE_TTL_SECONDS: String(options.leaseTtlSeconds ?? 2),
    ...options.env,
  };
  const directories: string[] = [];
  const started: NodeProcess[] = [];
  const startNode = async (name: string, extra: Record<string, string> = {}): Promise<ClusterNode> => {
    const dataPath = await mkdtemp(join(tmpdir(), `strata-${name}-`));
    directories.push(dataPath);
    const node = new NodeProcess(name, dataPath, { ...env, ...extra });
    started.push(node);
    await node.start();
    return node;
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // A stopped (SIGSTOP) process dies of SIGKILL all the same.
    await Promise.all(started.map((node) => node.kill('SIGKILL')));
    await etcd.stop();
    await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
  };
  try {
    const nodes: ClusterNode[] = [];
    // One after another: each joins a cluster the ones before it are already members of.
    for (let i = 1; i <= (options.nodes ?? 3); i++) nodes.push(await startNode(`node${i}`));
    return { etcd, nodes, env, startNode, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
