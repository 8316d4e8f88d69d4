/**
 * What the provider benchmarks share: running a peer's command, timing the best of a few rounds, and
 * the side-by-side table they print.
 */
import { spawn } from 'node:child_process';

/** Rounds of each timing; the fastest counts. */
export const ROUNDS = 2;
/** The peak RSS target for a node and for a backend moving one large object. */
export const RSS_TARGET = 256 * 1024 ** 2;

/** Runs `command` in /bin/sh with `env` added; resolves with its stdout, rejects on a non-zero exit. */
export function run(command: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve(output) : reject(new Error(`\`${command}\` exited with ${code ?? signal}`)),
    );
  });
}

/** Milliseconds `work` takes, after a sync so earlier writes (the server's included) are not flushed during it. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  await run('sync');
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The best of `ROUNDS` timings, with `reset` (untimed) before each. */
export async function best(
  work: () => Promise<unknown>,
  reset: () => Promise<unknown> = async () => {},
): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    await reset();
    fastest = Math.min(fastest, await timed(work));
  }
  return fastest;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;

/** Rows of Strata against a peer; the ratio is peer time / Strata time, so above 1 means Strata is faster. */
export class Comparison {
  readonly #rows: string[][] = [];

  add(what: string, strata: number, peer: string, peerMs: number, peerSyncedMs?: number): void {
    const ratio = peerMs / strata;
    this.#rows.push([
      what,
      seconds(strata),
      peer,
      seconds(peerMs),
      `**${ratio.toFixed(2)}**`,
      peerSyncedMs === undefined ? 'n/a' : `${seconds(peerSyncedMs)} / ${(peerSyncedMs / strata).toFixed(2)}`,
      `>= 1.0: ${ratio >= 1 ? 'met' : 'not met'}`,
    ]);
  }

  /** Prints the rows as a Markdown table. */
  print(): void {
    console.log('| Operation | Strata | Peer | Peer time | Peer / Strata | Peer + `sync`: time / ratio | Target |');
    console.log('|---|---|---|---|---|---|---|');
    for (const row of this.#rows) console.log(`| ${row.join(' | ')} |`);
    console.log('');
  }
}

/** What object-child.ts reports for one round. */
interface ObjectRun {
  readonly written: number;
  readonly read: number;
  readonly sent: string;
  readonly received: string;
  readonly writeMs: number;
  readonly readMs: number;
  readonly rssAtStart: number;
  readonly rssAfterWrite: number;
  readonly rssAfterRead: number;
}

/** The best timings and the highest peaks over the rounds of {@link measureObject}. */
export interface ObjectFigures {
  readonly writeMs: number;
  readonly readMs: number;
  readonly rssAtStart: number;
  readonly rssAfterWrite: number;
  readonly rssAfterRead: number;
}

const objectChild = new URL('./object-child.js', import.meta.url);

/**
 * Writes and reads back one object of `bytes` through the backend of the provider in `moduleDir`
 * (configured by `env`), in a child process per round; checks every byte came back.
 */
export async function measureObject(
  moduleDir: string,
  env: Record<string, string>,
  bytes: number,
): Promise<ObjectFigures> {
  const runs: ObjectRun[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await run('sync');
    const output = await run(`"${process.execPath}" "${new URL(objectChild).pathname}"`, {
      ...env,
      BENCH_MODULE: moduleDir,
      BENCH_KEY: `strata-object-${round}`,
      BENCH_BYTES: String(bytes),
    });
    const result = JSON.parse(output) as ObjectRun;
    if (result.written !== bytes || result.read !== bytes || result.sent !== result.received)
      throw new Error(`the object read back differs from the one written: ${output}`);
    runs.push(result);
  }
  return {
    writeMs: Math.min(...runs.map((r) => r.writeMs)),
    readMs: Math.min(...runs.map((r) => r.readMs)),
    rssAtStart: Math.min(...runs.map((r) => r.rssAtStart)),
    rssAfterWrite: Math.max(...runs.map((r) => r.rssAfterWrite)),
    rssAfterRead: Math.max(...runs.map((r) => r.rssAfterRead)),
  };
}

/** Prints the node's peak RSS through the backups and restores, and the backend's with one object. */
export function printPeaks(
  backend: string,
  object: string,
  node: { atStart: number; backups: number; restores: number },
  one: ObjectFigures,
): void {
  const against = (peak: number) => `<= ${mib(RSS_TARGET)}: ${peak <= RSS_TARGET ? 'met' : 'not met'}`;
  console.log(
    `Node peak RSS (VmHWM): ${mib(node.backups)} through the backups (${mib(node.atStart)} after start-up; ` +
      `${against(node.backups)}), ${mib(node.restores)} after the restores.`,
  );
  console.log(
    `${backend} peak RSS with a ${object}: ${mib(one.rssAfterWrite)} after write(), ${mib(one.rssAfterRead)} after read() ` +
      `(${mib(one.rssAtStart)} after start-up; target ${against(one.rssAfterRead)}).`,
  );
}
