import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { listen } from './process.js';

/** A running single-member etcd cluster with a data directory of its own. */
export interface Etcd {
  /** `http://127.0.0.1:PORT`: the client URL, for `new Etcd3({ hosts: endpoint })`. */
  readonly endpoint: string;
  /** The data directory, kept across {@link restart} and {@link kill}, removed by {@link stop}. */
  readonly directory: string;
  /** The process id of the etcd running now; undefined after {@link kill} or {@link stop}. */
  readonly pid: number | undefined;
  /** Kills etcd and removes its data directory. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Stops etcd (SIGTERM; SIGKILL after 5 s) if it runs, and starts it again on the same ports and
   * data directory: the endpoint and the data stay. Resolves once it is healthy.
   */
  restart(): Promise<void>;
  /** SIGKILLs etcd, as a crash would, and leaves its data directory for {@link restart}. */
  kill(): Promise<void>;
}

/** Options of {@link startEtcd}. */
export interface EtcdOptions {
  /** How long etcd may take to answer `/health` with `{"health":"true"}`; 10 s unless told. */
  readonly timeoutMs?: number;
  /** Flags added after the launcher's own, e.g. `['--max-txn-ops', '256']`. */
  readonly args?: readonly string[];
}

/** Attempts with fresh ports when another process takes one between picking it and etcd binding it. */
const PORT_ATTEMPTS = 5;
/** How much of etcd's output an error quotes. */
const TAIL_CHARS = 4000;

/** The etcd to run, and where its name came from. */
interface Binary {
  readonly path: string;
  readonly from: 'STRATA_ETCD_BIN' | 'PATH';
}

/** What the test run needs when there is no etcd to start. */
function missingEtcd(bin: Binary, reason: string): Error {
  return new Error(
    `etcd could not be started: \`${bin.path}\` (from ${bin.from}) ${reason}. Strata's etcd tests need etcd 3.4 or newer: ` +
      'install it with `apt-get install etcd-server` on Debian or Ubuntu (`npm test` does that itself when it ' +
      'runs as root), or set STRATA_ETCD_BIN to the path of an etcd binary.',
  );
}

/** Two distinct free ports of 127.0.0.1, both held until both are known. */
async function freePorts(): Promise<[number, number]> {
  const servers = [createServer(), createServer()];
  try {
    const [client, peer] = await Promise.all(servers.map((server) => listen(server)));
    return [client?.port ?? 0, peer?.port ?? 0];
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** The client and peer URLs of one launch. */
interface Urls {
  readonly client: string;
  readonly peer: string;
}

function etcdArgs(directory: string, { client: clientUrl, peer: peerUrl }: Urls, extra: readonly string[]): string[] {
  return [
    ['--name', 'strata-test'],
    ['--data-dir', directory],
    ['--listen-client-urls', clientUrl],
    ['--advertise-client-urls', clientUrl],
    ['--listen-peer-urls', peerUrl],
    ['--initial-advertise-peer-urls', peerUrl],
    ['--initial-cluster', `strata-test=${peerUrl}`],
    // Test speed over durability: no fsync, an election within ~100 ms, and only warnings logged
    // (zap: 3.4's default logger is deprecated, warns about it, and prints raft's INFO lines anyway).
    ['--unsafe-no-fsync', '--heartbeat-interval', '10', '--election-timeout', '100'],
    ['--logger', 'zap', '--log-level', 'warn'],
    extra,
  ].flat();
}

/** How a started etcd process ended. */
type Ended =
  | { readonly error: NodeJS.ErrnoException }
  | { readonly code: number | null; readonly signal: string | null };

/** One etcd process, with the tail of what it printed and a guard that kills it if this process dies. */
class EtcdProcess {
  readonly ended: Promise<Ended>;
  #output = '';
  #hasEnded = false;

  constructor(
    readonly child: ChildProcess,
    readonly bin: Binary,
  ) {
    const keep = (data: Buffer) => {
      this.#output = (this.#output + data.toString()).slice(-TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.ended = new Promise<Ended>((resolve) => {
      child.once('error', (error) => resolve({ error }));
      // `close`, not `exit`: by then all it printed has been read.
      child.once('close', (code, signal) => resolve({ code, signal }));
    }).then((ended) => {
      this.#hasEnded = true;
      return ended;
    });
    if (child.pid !== undefined) guard(child, this.ended);
  }

  get hasEnded(): boolean {
    return this.#hasEnded;
  }

  get output(): string {
    return this.#output;
  }

  /** Sends `signal` and waits for the process to end; SIGKILL after `graceMs`. */
  async terminate(signal: NodeJS.Signals, graceMs = 5000): Promise<void> {
    if (this.#hasEnded) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.ended;
    clearTimeout(timer);
  }
}

/** etcd processes still running, killed if this process exits first (one listener for all of them). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Kills `child` when this process ends, however it ends: on `exit` (normal end, uncaught error), and
 * through a watchdog shell that reads a pipe from this process and SIGKILLs etcd when the pipe closes,
 * which the kernel does even when this process is SIGKILLed (etcd.test.ts checks that case).
 */
function guard(child: ChildProcess, ended: Promise<Ended>): void {
  const pid = String(child.pid);
  const watchdog = spawn('/bin/sh', ['-c', 'read -r _; kill -9 "$1" 2>/dev/null', 'strata-etcd-watchdog', pid], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => {});
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  running.add(child);
  void ended.then(() => {
    running.delete(child);
    // etcd is gone: the watchdog must not outlive it and kill a process that reuses its pid.
    watchdog.kill('SIGKILL');
  });
}

/**
 * True when the etcd answering at `urls.client` is the one given `urls.peer`: a port taken between
 * picking and binding may be another launcher's etcd, healthy, while this one fails to bind.
 */
async function isOurs(urls: Urls): Promise<boolean> {
  const response = await fetch(`${urls.client}/v3/cluster/member/list`, { method: 'POST', body: '{}' });
  const { members } = (await response.json()) as { members?: { peerURLs?: string[] }[] };
  return members?.length === 1 && members[0]?.peerURLs?.includes(urls.peer) === true;
}

/**
 * Resolves once `GET /health` answers `{"health":"true"}` from this etcd; rejects when etcd ends first
 * or time runs out.
 */
async function waitUntilHealthy(etcd: EtcdProcess, urls: Urls, timeoutMs: number): Promise<void> {
  const endpoint = urls.client;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (etcd.hasEnded) {
      const ended = await etcd.ended;
      if ('error' in ended) {
        throw ended.error.code === 'ENOENT' || ended.error.code === 'EACCES'
          ? missingEtcd(etcd.bin, ended.error.code === 'ENOENT' ? 'was not found' : 'is not executable')
          : new Error(`etcd could not be started: \`${etcd.bin.path}\`: ${ended.error.message}`);
      }
      const how = ended.signal ?? `exit code ${ended.code}`;
      throw new Error(`etcd (\`${etcd.bin.path}\`) ended (${how}) before it was ready on ${endpoint}:\n${etcd.output}`);
    }
    if (Date.now() > deadline) {
      await etcd.terminate('SIGKILL');
      throw new Error(`etcd was not healthy on ${endpoint} within ${timeoutMs} ms:\n${etcd.output}`);
    }
    try {
      const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      const { health } = (await response.json()) as { health?: unknown };
      if (health === 'true' && (await isOurs(urls))) return;
    } catch {
      // Not listening yet, or no leader yet: ask again.
    }
    await Promise.race([sleep(20), etcd.ended]);
  }
}

/** Spawns etcd and waits until it is healthy. */
async function launch(bin: Binary, args: readonly string[], urls: Urls, timeoutMs: number) {
  // ETCD_* variables would set flags too, and etcd refuses a flag given both ways.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ETCD_')));
  const etcd = new EtcdProcess(spawn(bin.path, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }), bin);
  await waitUntilHealthy(etcd, urls, timeoutMs);
  return etcd;
}

/**
 * Starts etcd (`STRATA_ETCD_BIN`, or `etcd` on PATH) as a one-member cluster on two free ports of
 * 127.0.0.1 with a fresh data directory and test settings (see etcdArgs), and resolves once it is
 * healthy. Throws, saying how to install it, when there is no etcd to run: never a silent skip.
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<Etcd> {
  const fromEnv = process.env.STRATA_ETCD_BIN;
  const bin: Binary =
    fromEnv === undefined ? { path: 'etcd', from: 'PATH' } : { path: fromEnv, from: 'STRATA_ETCD_BIN' };
  const timeoutMs = options.timeoutMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    const [client, peer] = await freePorts();
    const urls = { client: `http://127.0.0.1:${client}`, peer: `http://127.0.0.1:${peer}` };
    const endpoint = urls.client;
    const directory = await mkdtemp(join(tmpdir(), 'strata-etcd-'));
    const args = etcdArgs(directory, urls, options.args ?? []);
    let running: EtcdProcess | undefined;
    try {
      running = await launch(bin, args, urls, timeoutMs);
    } catch (error) {
      await rm(directory, { recursive: true, force: true });
      // A port taken between freePorts() and etcd binding it: pick others.
      if (attempt < PORT_ATTEMPTS && /address already in use/.test(String(error))) continue;
      throw error;
    }
    let stopped = false;
    return {
      endpoint,
      directory,
      get pid() {
        return running?.hasEnded === false ? running.child.pid : undefined;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await running?.terminate('SIGKILL');
        running = undefined;
        await rm(directory, { recursive: true, force: true });
      },
      async kill() {
        await running?.terminate('SIGKILL');
      },
      async restart() {
        if (stopped) throw new Error(`etcd on ${endpoint} was stopped and its data removed; start a new one`);
        await running?.terminate('SIGTERM');
        running = undefined;
        running = await launch(bin, args, urls, timeoutMs);
      },
    };
  }
}
