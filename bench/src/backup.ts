/**
 * Backup and restore side by side with the tools people would otherwise use, on the same generated
 * store: Strata's filesystem backups at four levels against `cp -r` (NoCompression), `tar | pigz -1`
 * (BestSpeed: gzip on both cores), `restic` (DefaultCompression) and `tar | zstd -1 -T0`
 * (ZstdBestSpeed), both ways; writer throughput and p99 latency during a backup against the same
 * writers without one; the create call's latency; the node's peak RSS, and how it grows with the
 * store's size.
 *
 * The node runs as a `strata serve` child process, so its memory is its own. Every step starts after
 * a `sync` and, for Strata, once the node is idle (nothing left running from the step before), and
 * the files are in the page cache for every contender alike. Each round of a contender first removes
 * what its previous round wrote, so that later rounds write into memory just freed. Strata's filesystem
 * provider fsyncs what it writes and a restore fsyncs every file; the peers do not, so each peer is
 * timed alone and followed by `sync`, the durable equivalent the ratio is taken against.
 *
 * Run with `npm run bench:backup` (needs pigz, zstd and restic: Debian's packages of those names).
 * BENCH_BACKUP_GIB sets the store size of the comparisons (default 1), BENCH_RSS_GIB the sizes the
 * memory pass compares (default "1,4"), BENCH_DIR where it all goes (default the system's temporary
 * directory; the 4 GiB pass needs about 18 GiB free).
 */
import { execSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateStore, sizeOf } from './generate-store.js';
import { api, type Child, finished, peakRss, serve, settled, stop } from './strata-child.js';

const GIB = Number(process.env.BENCH_BACKUP_GIB ?? 1);
/** Store sizes the memory pass compares (GiB, comma-separated): the RSS bound must hold flat across them. */
const RSS_GIB = (process.env.BENCH_RSS_GIB ?? '1,4').split(',').map(Number);
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

/**
 * How often the status is polled. Each poll is a request and a log line on the node: at 5 ms they cost
 * it a tenth of a core, a client's share that `cp` and `restic` are not charged; 50 ms is still finer
 * than any client polls.
 */
const POLL_MS = 50;

let backups = 0;
const createLatencies: number[] = [];

/** Backs up class Bench; resolves with the backup's id once it succeeded. */
async function backup(child: Child, config: Record<string, unknown>): Promise<string> {
  const id = `bench-${++backups}`;
  const started = performance.now();
  await api(child, 'POST', '/v1/backups/filesystem', { id, include: ['Bench'], config });
  createLatencies.push(performance.now() - started);
  await finished(child, `/v1/backups/filesystem/${id}`, POLL_MS);
  return id;
}

async function restore(child: Child, id: string): Promise<void> {
  await api(child, 'POST', `/v1/backups/filesystem/${id}/restore`, {});
  await finished(child, `/v1/backups/filesystem/${id}/restore`, POLL_MS);
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

/** One row: Strata's time against a peer's, the peer timed alone and followed by `sync`. */
function compare(what: string, strata: number, peer: string, peerMs: number, peerSyncedMs: number, target: string) {
  rows.push([
    what,
    seconds(strata),
    peer,
    seconds(peerMs),
    `${seconds(peerSyncedMs)} / ${ratio(strata, peerSyncedMs)}`,
    target,
  ]);
}

/** A peer's best time without and with a `sync` after it, `reset` (untimed) before each run. */
async function peer(command: string, reset: () => unknown): Promise<[number, number]> {
  return [await best(() => sh(command), reset), await best(() => sh(`${command} && sync`), reset)];
}

/** The levels the RSS pass backs up and restores at each store size. */
const RSS_LEVELS = ['NoCompression', 'DefaultCompression', 'ZstdBestSpeed'];

/**
 * The node's peak RSS (VmHWM) after start-up and through a backup and a restore at each of
 * RSS_LEVELS, on a fresh node over `data` with `env` added.
 */
async function peaksOf(data: string, backups: string, env: Record<string, string>): Promise<[number, number]> {
  const child = await serve(data, { ENABLE_MODULES: 'backup-filesystem', BACKUP_FILESYSTEM_PATH: backups, ...env });
  const atStart = await peakRss(child.process.pid);
  for (const level of RSS_LEVELS) {
    const id = await backup(child, { CompressionLevel: level });
    await api(child, 'DELETE', '/v1/schema/Bench');
    await restore(child, id);
    await rm(join(backups, id), { recursive: true, force: true });
  }
  const peak = await peakRss(child.process.pid);
  await stop(child);
  return [atStart, peak];
}

/** glibc's malloc settings docs/configuration.md recommends for a node that takes backups. */
const MALLOC_SETTINGS = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };

/**
 * The node's memory against the data's size: for each size, a fresh store; the peaks of a node as it
 * starts by default, then of one with {@link MALLOC_SETTINGS}.
 */
async function rssBySize(root: string, sizes: readonly number[]): Promise<string[]> {
  const lines = [
    '| Store | RSS after start-up | Peak RSS through backups and restores | Peak with MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 |',
    '|---|---|---|---|',
  ];
  for (const gib of sizes) {
    const data = join(root, `rss-${gib}`);
    console.log(`RSS pass: generating a ${gib} GiB class...`);
    await generateStore(data, gib, SHARDS);
    const { bytes } = await sizeOf(join(data, 'bench'));
    const backups = join(root, `rss-${gib}-backups`);
    // Each node starts on the store as generated, so its start-up compactions count in both peaks.
    sh(`cp -r '${data}' '${data}-copy'`);
    const [atStart, peak] = await peaksOf(data, backups, {});
    const [, capped] = await peaksOf(`${data}-copy`, backups, MALLOC_SETTINGS);
    await rm(data, { recursive: true, force: true });
    await rm(`${data}-copy`, { recursive: true, force: true });
    lines.push(`| ${mib(bytes)} | ${mib(atStart)} | ${mib(peak)} | ${mib(capped)} |`);
  }
  return lines;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'strata-bench-backup-'));
  const data = join(root, 'data');
  const store = join(data, 'bench');
  const out = join(root, 'out');
  const backupsDir = join(root, 'backups');
  const missing = ['pigz', 'zstd', 'restic'].filter((tool) => !has(tool));
  if (missing.length > 0)
    throw new Error(`the peers need ${missing.join(', ')} (Debian: apt-get install ${missing.join(' ')})`);
  try {
    console.log(`Generating a ${GIB} GiB class of ${SHARDS} shards...`);
    await generateStore(data, GIB, SHARDS);
    const { bytes, files } = await sizeOf(store);
    console.log(`Store: ${mib(bytes)} in ${files} files\n`);

    const child = await serve(data, {
      ENABLE_MODULES: 'backup-filesystem',
      BACKUP_FILESYSTEM_PATH: backupsDir,
    });
    const rssAtStart = await peakRss(child.process.pid);
    await api(child, 'POST', '/v1/schema', { class: 'Load', properties: [{ name: 'note', dataType: ['text'] }] });
    await settled(child); // the compactions a fresh store starts with
    const fresh = async () => rm(out, { recursive: true, force: true }).then(() => mkdir(out, { recursive: true }));
    // Each peer's round starts by removing what its last round wrote, and so does Strata's: writing
    // into memory just freed and writing into memory not touched for a while cost very differently on
    // a VM that hands free pages back to its host (docs/performance.md).
    const strataBackup = async (level: string) => {
      let id = '';
      const ms = await best(
        async () => {
          id = await backup(child, { CompressionLevel: level, CPUPercentage: 80 });
        },
        async () => {
          await settled(child);
          if (id !== '') await rm(join(backupsDir, id), { recursive: true, force: true });
        },
      );
      return { id, ms };
    };
    const resticEnv = `RESTIC_PASSWORD=bench RESTIC_REPOSITORY=${out}/restic RESTIC_CACHE_DIR=${root}/restic-cache`;
    const tarOf = `tar -cf - -C ${data} bench`;

    // Backups: each Strata level against the tool a user would otherwise reach for.
    const plain = await strataBackup('NoCompression');
    compare(
      'backup, NoCompression',
      plain.ms,
      '`cp -r`',
      ...(await peer(`cp -r ${store} ${out}/copy`, fresh)),
      '>= 0.8',
    );
    const fast = await strataBackup('BestSpeed');
    compare(
      'backup, BestSpeed',
      fast.ms,
      '`tar | pigz -1`',
      ...(await peer(`${tarOf} | pigz -1 > ${out}/b.tgz`, fresh)),
      '>= 1.0',
    );
    const standard = await strataBackup('DefaultCompression');
    const resticInit = () => fresh().then(() => sh(`${resticEnv} restic init --quiet`));
    compare(
      'backup, DefaultCompression',
      standard.ms,
      '`restic backup`',
      ...(await peer(`${resticEnv} restic backup --quiet ${store}`, resticInit)),
      '>= 1.0',
    );
    const zstdStandard = await strataBackup('ZstdDefaultCompression');
    compare(
      'backup, ZstdDefaultCompression',
      zstdStandard.ms,
      '`restic backup`',
      ...(await peer(`${resticEnv} restic backup --quiet ${store}`, resticInit)),
      '>= 1.0',
    );
    const zstd = await strataBackup('ZstdBestSpeed');
    compare(
      'backup, ZstdBestSpeed',
      zstd.ms,
      '`tar | zstd -1 -T0`',
      ...(await peer(`${tarOf} | zstd -q -1 -T0 > ${out}/b.tar.zst`, fresh)),
      '>= 0.8',
    );

    // Restores: each into the node without the class, against the peer reading back what it wrote.
    const dropClass = () => api(child, 'DELETE', '/v1/schema/Bench');
    await dropClass();
    const strataRestore = (id: string) =>
      best(
        () => restore(child, id),
        () =>
          api(child, 'GET', '/v1/schema/Bench')
            .then(dropClass, () => {})
            .then(() => settled(child)), // the deleted class's files are removed in the background
      );
    const restored = `${out}/restored`;
    const emptyRestored = () => rm(restored, { recursive: true, force: true }).then(() => mkdir(restored));
    await fresh();
    sh(`cp -r ${join(backupsDir, plain.id)} ${out}/source`);
    compare(
      'restore, NoCompression',
      await strataRestore(plain.id),
      '`cp -r`',
      ...(await peer(`cp -r ${out}/source ${out}/restored-copy`, () =>
        rm(`${out}/restored-copy`, { recursive: true, force: true }),
      )),
      '>= 0.8',
    );
    sh(`${tarOf} | pigz -1 > ${out}/b.tgz`);
    compare(
      'restore, BestSpeed',
      await strataRestore(fast.id),
      '`pigz -dc | tar -x`',
      ...(await peer(`pigz -dc ${out}/b.tgz | tar -x -C ${restored}`, emptyRestored)),
      '',
    );
    sh(`${resticEnv} restic init --quiet && ${resticEnv} restic backup --quiet ${store}`);
    compare(
      'restore, DefaultCompression',
      await strataRestore(standard.id),
      '`restic restore`',
      ...(await peer(`${resticEnv} restic restore latest --quiet --target ${restored}`, emptyRestored)),
      '>= 1.0',
    );
    compare(
      'restore, ZstdDefaultCompression',
      await strataRestore(zstdStandard.id),
      '`restic restore`',
      ...(await peer(`${resticEnv} restic restore latest --quiet --target ${restored}`, emptyRestored)),
      '>= 1.0',
    );
    sh(`${tarOf} | zstd -q -1 -T0 > ${out}/b.tar.zst`);
    compare(
      'restore, ZstdBestSpeed',
      await strataRestore(zstd.id),
      '`zstd -dc | tar -x`',
      ...(await peer(`zstd -q -dc ${out}/b.tar.zst | tar -x -C ${restored}`, emptyRestored)),
      '>= 0.8',
    );

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
    await rm(data, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
    await rm(backupsDir, { recursive: true, force: true });
    const rss = await rssBySize(root, RSS_GIB);

    console.log('| Operation | Strata | Peer | Peer time | Peer + `sync`: time / Strata speed vs peer | Target |');
    console.log('|---|---|---|---|---|---|');
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
        'objects filled a memtable too.\n',
    );
    console.log(`Memory against the store's size (${RSS_LEVELS.join(', ')}: a backup and a restore each):\n`);
    for (const line of rss) console.log(line);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
