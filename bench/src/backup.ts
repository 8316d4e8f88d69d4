/**
 * Backup and restore side by side with the tools people would otherwise use, on the same generated
 * store: Strata's filesystem backups (NoCompression, BestSpeed) against `cp -r`, `tar | gzip -1` and
 * `restic` (when installed), both ways; writer throughput and p99 latency during a backup against
 * the same writers without one; the create call's latency; the node's peak RSS.
 *
 * The node runs as a `strata serve` child process, so its memory is its own. Every step starts after
 * a `sync`, and the files are in the page cache for every contender alike. Strata's filesystem
 * provider fsyncs what it writes and a restore fsyncs every file; `cp`, `tar` and `restic` do not, so
 * each peer is also timed followed by `sync`, the durable equivalent.
 *
 * Run with `npm run bench:backup`. BENCH_BACKUP_GIB sets the store size (default 2),
 * BENCH_DIR where it goes (default the system's temporary directory).
 */
import { execSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateStore, sizeOf } from './generate-store.js';
import { api, type Child, finished, peakRss, serve, stop } from './strata-child.js';

const GIB = Number(process.env.BENCH_BACKUP_GIB ?? 2);
const ROUNDS = 2;
const WRITERS = 4;
const SHARDS = 32;
const sh = (command: string) => execSync(command, { stdio: ['ignore', 'ignore', 'inherit'], shell: '/bin/sh' });
const has = (tool: string) => {
  try {
    execSync(`command -v ${tool}`, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Milliseconds `work` takes, after a sync so earlier writes are not flushed during it. */
async function timed(work: () => unknown): Promise<number> {
  sh('sync');
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The best of `ROUNDS` timings, with `reset` (untimed) before each. */
async function best(work: () => unknown, reset: () => unknown = () => {}): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    await reset();
    fastest = Math.min(fastest, await timed(work));
  }
  return fastest;
}

let backups = 0;
const createLatencies: number[] = [];

/** Backs up class Bench; resolves with the backup's id once it succeeded. */
async function backup(child: Child, config: Record<string, unknown>): Promise<string> {
  const id = `bench-${++backups}`;
  const started = performance.now();
  await api(child, 'POST', '/v1/backups/filesystem', { id, include: ['Bench'], config });
  createLatencies.push(performance.now() - started);
  await finished(child, `/v1/backups/filesystem/${id}`);
  return id;
}

async function restore(child: Child, id: string): Promise<void> {
  await api(child, 'POST', `/v1/backups/filesystem/${id}/restore`, {});
  await finished(child, `/v1/backups/filesystem/${id}/restore`);
}

// ---------------------------------------------------------------------------------------------
// Writers: WRITERS clients creating 1 KiB objects, one request at a time each.
// ---------------------------------------------------------------------------------------------

interface Load {
  readonly perSecond: number;
  readonly p99: number;
  readonly failed: number;
}

async function writeWhile(child: Child, running: () => boolean): Promise<Load> {
  const latencies: number[] = [];
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; running(); i++) {
        const before = performance.now();
        const response = await fetch(`${child.url}/v1/objects`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ class: 'Load', properties: { note: `writer ${w} #${i} ${'x'.repeat(1000)}` } }),
        });
        await response.arrayBuffer();
        if (response.ok) latencies.push(performance.now() - before);
        else failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / seconds, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0, failed };
}

// ---------------------------------------------------------------------------------------------

const rows: string[][] = [];
const ratio = (strata: number, peer: number) => (peer / strata).toFixed(2);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;

function compare(
  what: string,
  strata: number,
  peer: string,
  peerMs: number,
  peerSyncedMs: number | undefined,
  target: string,
) {
  rows.push([
    what,
    seconds(strata),
    peer,
    seconds(peerMs),
    ratio(strata, peerMs),
    peerSyncedMs === undefined ? 'n/a' : `${seconds(peerSyncedMs)} / ${ratio(strata, peerSyncedMs)}`,
    target,
  ]);
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'strata-bench-backup-'));
  const data = join(root, 'data');
  const store = join(data, 'bench');
  const out = join(root, 'out');
  try {
    console.log(`Generating a ${GIB} GiB class of ${SHARDS} shards...`);
    await generateStore(data, GIB, SHARDS);
    const { bytes, files } = await sizeOf(store);
    console.log(`Store: ${mib(bytes)} in ${files} files\n`);

    const child = await serve(data, {
      ENABLE_MODULES: 'backup-filesystem',
      BACKUP_FILESYSTEM_PATH: join(root, 'backups'),
    });
    const rssAtStart = await peakRss(child.process.pid);
    await api(child, 'POST', '/v1/schema', { class: 'Load', properties: [{ name: 'note', dataType: ['text'] }] });
    const fresh = async () => rm(out, { recursive: true, force: true }).then(() => mkdir(out, { recursive: true }));
    const strataBackup = async (config: Record<string, unknown>) => {
      let id = '';
      const ms = await best(async () => {
        id = await backup(child, config);
      });
      return { id, ms };
    };

    // Backups.
    const plain = await strataBackup({ CompressionLevel: 'NoCompression', CPUPercentage: 80 });
    const cp = await best(() => sh(`cp -r ${store} ${out}/copy`), fresh);
    const cpSync = await best(() => sh(`cp -r ${store} ${out}/copy && sync`), fresh);
    compare('backup, no compression', plain.ms, '`cp -r`', cp, cpSync, '>= 0.8');

    const gzip = await strataBackup({ CompressionLevel: 'BestSpeed', CPUPercentage: 80 });
    const tar = await best(() => sh(`tar -cf - -C ${data} bench | gzip -1 > ${out}/bench.tar.gz`), fresh);
    const tarSync = await best(() => sh(`tar -cf - -C ${data} bench | gzip -1 > ${out}/bench.tar.gz && sync`), fresh);
    compare('backup, gzip BestSpeed', gzip.ms, '`tar | gzip -1`', tar, tarSync, '>= 1.0');

    const restic = has('restic');
    const resticEnv = `RESTIC_PASSWORD=bench RESTIC_REPOSITORY=${out}/restic RESTIC_CACHE_DIR=${root}/restic-cache`;
    if (restic) {
      const ms = await best(
        () => sh(`${resticEnv} restic backup --quiet ${store}`),
        () => fresh().then(() => sh(`${resticEnv} restic init --quiet`)),
      );
      compare(
        'backup, default compression',
        (await strataBackup({ CPUPercentage: 80 })).ms,
        '`restic backup`',
        ms,
        undefined,
        '',
      );
    }

    // Restores: each from a fresh copy of the backup, into a node without the class.
    const dropClass = () => api(child, 'DELETE', '/v1/schema/Bench');
    await dropClass();
    const restorePlain = await best(
      () => restore(child, plain.id),
      () => api(child, 'GET', '/v1/schema/Bench').then(dropClass, () => {}),
    );
    await fresh();
    sh(`cp -r ${join(root, 'backups', plain.id)} ${out}/source`);
    const cpBack = await best(
      () => sh(`cp -r ${out}/source ${out}/restored`),
      () => rm(`${out}/restored`, { recursive: true, force: true }),
    );
    const cpBackSync = await best(
      () => sh(`cp -r ${out}/source ${out}/restored && sync`),
      () => rm(`${out}/restored`, { recursive: true, force: true }),
    );
    compare('restore, no compression', restorePlain, '`cp -r`', cpBack, cpBackSync, '>= 0.8');

    const restoreGzip = await best(
      () => restore(child, gzip.id),
      () => api(child, 'GET', '/v1/schema/Bench').then(dropClass, () => {}),
    );
    sh(`tar -cf - -C ${data} bench | gzip -1 > ${out}/bench.tar.gz`);
    const untar = await best(
      () => sh(`tar -xzf ${out}/bench.tar.gz -C ${out}/restored`),
      () => rm(`${out}/restored`, { recursive: true, force: true }).then(() => mkdir(`${out}/restored`)),
    );
    const untarSync = await best(
      () => sh(`tar -xzf ${out}/bench.tar.gz -C ${out}/restored && sync`),
      () => rm(`${out}/restored`, { recursive: true, force: true }).then(() => mkdir(`${out}/restored`)),
    );
    compare('restore, gzip BestSpeed', restoreGzip, '`gzip -dc | tar -x`', untar, untarSync, '');

    if (restic) {
      await fresh();
      sh(`${resticEnv} restic init --quiet && ${resticEnv} restic backup --quiet ${store}`);
      const ms = await best(
        () => sh(`${resticEnv} restic restore latest --quiet --target ${out}/restored`),
        () => rm(`${out}/restored`, { recursive: true, force: true }),
      );
      compare('restore, default compression', restoreGzip, '`restic restore`', ms, undefined, '');
    }

    // Before the writers below fill a memtable of their own: the peak of backups and restores alone.
    const rssBackups = await peakRss(child.process.pid);

    // Writers without, then during, a backup with the default settings.
    const until = performance.now() + 10_000;
    const idle = await writeWhile(child, () => performance.now() < until);
    let backingUp = true;
    const [busy] = await Promise.all([
      writeWhile(child, () => backingUp),
      backup(child, {}).finally(() => {
        backingUp = false;
      }),
    ]);
    const rssPeak = await peakRss(child.process.pid);
    await stop(child); // before its data directory is removed

    console.log(
      '| Operation | Strata | Peer | Peer time | Strata speed / peer | Peer + `sync`: time / ratio | Target |',
    );
    console.log('|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    console.log('');
    console.log('| Writers (4 clients, 1 KiB objects) | Objects/s | p99 latency | Failed |');
    console.log('|---|---|---|---|');
    console.log(`| without a backup | ${idle.perSecond.toFixed(0)} | ${idle.p99.toFixed(2)} ms | ${idle.failed} |`);
    console.log(
      `| during a backup (default settings) | ${busy.perSecond.toFixed(0)} | ${busy.p99.toFixed(2)} ms | ${busy.failed} |`,
    );
    console.log(
      `| during / without | ${(busy.perSecond / idle.perSecond).toFixed(2)} (target >= 0.8) | ${(busy.p99 / idle.p99).toFixed(2)}x (target <= 2) | |`,
    );
    console.log('');
    createLatencies.sort((a, b) => a - b);
    console.log(
      `Create call: median ${createLatencies[Math.floor(createLatencies.length / 2)]?.toFixed(1)} ms, ` +
        `max ${createLatencies.at(-1)?.toFixed(1)} ms over ${createLatencies.length} backups (target < 50 ms).`,
    );
    console.log(
      `Node peak RSS: ${mib(rssBackups)} through the backups and restores above (${mib(rssAtStart)} after ` +
        `start-up; target <= 256 MiB) for a ${mib(bytes)} store; ${mib(rssPeak)} once the writers' ` +
        'objects filled a memtable too.',
    );
    if (!restic) console.log('restic is not installed (Debian: apt-get install restic): its rows are left out.');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
