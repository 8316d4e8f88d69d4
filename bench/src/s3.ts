/**
 * S3 backups side by side with the AWS CLI, against the same local S3 server (s3rver, from
 * @strata/testing): a node's backup of a generated store through backup-s3 (NoCompression and
 * DefaultCompression) against `aws s3 cp --recursive` of the class's files, both ways; then one
 * 1 GiB object through `S3Backend.write()`/`read()` against `aws s3 cp` of a 1 GiB file, with the
 * backend's peak RSS.
 *
 * The node runs as a `strata serve` child and the single-object upload in a child of its own, so each
 * VmHWM is its own. The peer is Debian's awscli 2 (`/usr/bin/aws`, by absolute path: another `aws`
 * on PATH may be v1) with its default transfer settings (8 MiB parts, 10 requests at once) and no
 * configuration file. s3rver runs on the same machine, so both sides share its CPU.
 *
 * Run with `npm run bench:s3`. BENCH_S3_GIB sets the store size (default 1), BENCH_S3_OBJECT_GIB the
 * single object's (default 1), BENCH_DIR where the store goes (default the system's temporary directory).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startS3Server } from '@strata/testing';
import { BENCH_CLASS, generateStore, sizeOf } from './generate-store.js';
import { api, finished, peakRss, serve, stop } from './strata-child.js';

const GIB = Number(process.env.BENCH_S3_GIB ?? 1);
const OBJECT_GIB = Number(process.env.BENCH_S3_OBJECT_GIB ?? 1);
const ROUNDS = 2;
// Polling every 5 ms (as bench:backup does) cost the node about 7% of a 20 s backup on 2 cores.
const POLL_MS = 50;
const SHARDS = 32;
const BUCKET = 'bench';
const AWS = '/usr/bin/aws';
const RSS_TARGET = 256 * 1024 ** 2;
const moduleDir = dirname(createRequire(import.meta.url).resolve('@strata/backup-s3/package.json'));
const uploadChild = new URL('./s3-upload.js', import.meta.url);

/** Runs `command` in /bin/sh with `env` added; resolves with its stdout, rejects on a non-zero exit. */
function run(command: string, env: Record<string, string> = {}): Promise<string> {
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

/** Milliseconds `work` takes, after a sync so earlier writes (s3rver's included) are not flushed during it. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  await run('sync');
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The best of `ROUNDS` timings, with `reset` (untimed) before each. */
async function best(work: () => Promise<unknown>, reset: () => Promise<unknown> = async () => {}): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    await reset();
    fastest = Math.min(fastest, await timed(work));
  }
  return fastest;
}

const rows: string[][] = [];
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;

/** One table row; the ratio is peer time / Strata time, so above 1 means Strata is faster. */
function compare(what: string, strata: number, peer: string, peerMs: number, peerSyncedMs?: number) {
  const ratio = peerMs / strata;
  rows.push([
    what,
    seconds(strata),
    peer,
    seconds(peerMs),
    `**${ratio.toFixed(2)}**`,
    peerSyncedMs === undefined ? 'n/a' : `${seconds(peerSyncedMs)} / ${(peerSyncedMs / strata).toFixed(2)}`,
    `>= 1.0: ${ratio >= 1 ? 'met' : 'not met'}`,
  ]);
}

interface UploadRun {
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

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'strata-bench-s3-'));
  const data = join(root, 'data');
  const store = join(data, BENCH_CLASS.toLowerCase());
  const server = await startS3Server({ buckets: [BUCKET] });
  // No configuration file, so a user's ~/.aws settings cannot change the peer's transfer settings.
  const awsEnv = {
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(root, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-aws-credentials'),
    AWS_PAGER: '',
  };
  const aws = (args: string) =>
    run(`${AWS} --endpoint-url ${server.endpoint} --only-show-errors --no-progress s3 ${args}`, awsEnv);
  /** Bytes of the objects stored under `prefix` in the bucket, as s3rver keeps them on disk. */
  const stored = (prefix: string) =>
    sizeOf(join(server.directory, BUCKET, prefix), (name) => name.endsWith('._S3rver_object'));

  try {
    console.log(`${(await run(`${AWS} --version`)).trim()}`);
    console.log(`Generating a ${GIB} GiB class of ${SHARDS} shards...`);
    await generateStore(data, GIB, SHARDS);

    const child = await serve(data, {
      ENABLE_MODULES: moduleDir,
      ...server.env(BUCKET),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const rssAtStart = await peakRss(child.process.pid);
    // Measured once the node has opened the store: opening a shard adds its write-ahead log.
    const { bytes, files } = await sizeOf(store);
    console.log(`Store: ${mib(bytes)} in ${files} files\n`);

    // Backups: Strata's through the REST API, the peer's of the class's files.
    let backups = 0;
    const uploaded: string[] = [];
    const strataBackup = async (CompressionLevel: string) => {
      let id = '';
      const ms = await best(async () => {
        id = `strata-${++backups}`;
        await api(child, 'POST', '/v1/backups/s3', { id, include: [BENCH_CLASS], config: { CompressionLevel } });
        await finished(child, `/v1/backups/s3/${id}`, POLL_MS);
      });
      const size = await stored(id);
      uploaded.push(`${CompressionLevel}: ${mib(size.bytes)} in ${size.files} objects`);
      return { id, ms };
    };
    let copies = 0;
    const awsUp = await best(() => aws(`cp --recursive ${store} s3://${BUCKET}/awscli-${++copies}/`));
    const awsUpSize = await stored(`awscli-${copies}`);
    if (awsUpSize.bytes !== bytes) throw new Error(`awscli uploaded ${awsUpSize.bytes} bytes of ${bytes}`);
    uploaded.push(`awscli: ${mib(awsUpSize.bytes)} in ${awsUpSize.files} objects`);

    const plain = await strataBackup('NoCompression');
    compare('backup, NoCompression', plain.ms, '`aws s3 cp --recursive` up', awsUp);
    const gzip = await strataBackup('DefaultCompression');
    compare('backup, DefaultCompression', gzip.ms, '`aws s3 cp --recursive` up', awsUp);
    const rssBackups = await peakRss(child.process.pid);

    // Restores: Strata's into a node without the class, the peer's into an empty directory. Strata
    // fsyncs what it restores and awscli does not, so the peer is also timed followed by `sync`.
    const dropClass = () =>
      api(child, 'GET', `/v1/schema/${BENCH_CLASS}`).then(
        () => api(child, 'DELETE', `/v1/schema/${BENCH_CLASS}`),
        () => {},
      );
    const strataRestore = (id: string) =>
      best(async () => {
        await api(child, 'POST', `/v1/backups/s3/${id}/restore`, {});
        await finished(child, `/v1/backups/s3/${id}/restore`, POLL_MS);
      }, dropClass);
    const restored = join(root, 'restored');
    const fresh = () => rm(restored, { recursive: true, force: true });
    const awsDown = await best(() => aws(`cp --recursive s3://${BUCKET}/awscli-1/ ${restored}`), fresh);
    if ((await sizeOf(restored)).bytes !== bytes) throw new Error('awscli restored a different number of bytes');
    const awsDownSync = await best(
      () => aws(`cp --recursive s3://${BUCKET}/awscli-1/ ${restored}`).then(() => run('sync')),
      fresh,
    );
    await fresh();
    compare(
      'restore, NoCompression',
      await strataRestore(plain.id),
      '`aws s3 cp --recursive` down',
      awsDown,
      awsDownSync,
    );
    compare(
      'restore, DefaultCompression',
      await strataRestore(gzip.id),
      '`aws s3 cp --recursive` down',
      awsDown,
      awsDownSync,
    );
    const rssRestores = await peakRss(child.process.pid);
    await stop(child);

    // One large object: S3Backend in a child of its own, against awscli on a file of the same size.
    const objectBytes = Math.round(OBJECT_GIB * 1024 ** 3);
    const runs: UploadRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await run('sync');
      const output = await run(`"${process.execPath}" "${fileURLToPath(uploadChild)}"`, {
        BENCH_S3_ENDPOINT: server.endpoint,
        BENCH_S3_BUCKET: BUCKET,
        BENCH_S3_KEY: `strata-object-${round}`,
        BENCH_S3_BYTES: String(objectBytes),
        ...server.env(BUCKET),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      });
      const result = JSON.parse(output) as UploadRun;
      if (result.written !== objectBytes || result.read !== objectBytes || result.sent !== result.received)
        throw new Error(`the object read back differs from the one written: ${output}`);
      runs.push(result);
    }
    const big = join(root, 'object');
    const expected = (await run(`head -c ${objectBytes} /dev/urandom | tee ${big} | sha256sum`)).split(' ')[0];
    const awsPut = await best(() => aws(`cp ${big} s3://${BUCKET}/awscli-object`));
    let awsHash = '';
    // Read back and hashed without touching the disk, as the backend's read above.
    const awsGet = await best(async () => {
      awsHash = (await aws(`cp s3://${BUCKET}/awscli-object - | sha256sum`)).split(' ')[0] ?? '';
    });
    if (awsHash !== expected) throw new Error('awscli read back a different object');
    const object = `${mib(objectBytes)} object`;
    compare(`${object}: S3Backend.write()`, Math.min(...runs.map((r) => r.writeMs)), `\`aws s3 cp\` of a file`, awsPut);
    compare(
      `${object}: S3Backend.read() + SHA-256`,
      Math.min(...runs.map((r) => r.readMs)),
      '`aws s3 cp - \\| sha256sum`',
      awsGet,
    );
    const objectPeak = Math.max(...runs.map((r) => r.rssAfterRead));
    const objectPeakWrite = Math.max(...runs.map((r) => r.rssAfterWrite));

    console.log('| Operation | Strata | Peer | Peer time | Peer / Strata | Peer + `sync`: time / ratio | Target |');
    console.log('|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    console.log('');
    console.log(`Store: ${mib(bytes)} in ${files} files. Uploaded: ${uploaded.join('; ')}.`);
    console.log(
      `Node peak RSS (VmHWM): ${mib(rssBackups)} through the backups (${mib(rssAtStart)} after start-up; ` +
        `<= ${mib(RSS_TARGET)}: ${rssBackups <= RSS_TARGET ? 'met' : 'not met'}), ${mib(rssRestores)} after the restores.`,
    );
    console.log(
      `S3Backend peak RSS with a ${object}: ${mib(objectPeakWrite)} after write(), ${mib(objectPeak)} after read() ` +
        `(${mib(Math.min(...runs.map((r) => r.rssAtStart)))} after start-up; target <= ${mib(RSS_TARGET)}: ` +
        `${objectPeak <= RSS_TARGET ? 'met' : 'not met'}).`,
    );
  } finally {
    await server.stop();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
