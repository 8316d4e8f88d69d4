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
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startS3Server } from '@strata/testing';
import { BENCH_CLASS, generateStore, sizeOf } from './generate-store.js';
import { best, Comparison, measureObject, mib, printPeaks, run } from './measure.js';
import { nodeOperations } from './node-operations.js';
import { peakRss, serve, stop } from './strata-child.js';

const GIB = Number(process.env.BENCH_S3_GIB ?? 1);
const OBJECT_GIB = Number(process.env.BENCH_S3_OBJECT_GIB ?? 1);
const SHARDS = 32;
const BUCKET = 'bench';
const AWS = '/usr/bin/aws';
const moduleDir = dirname(createRequire(import.meta.url).resolve('@strata/backup-s3/package.json'));

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

  const table = new Comparison();
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
    const strata = nodeOperations(child, 's3', stored);
    let copies = 0;
    const awsUp = await best(() => aws(`cp --recursive ${store} s3://${BUCKET}/awscli-${++copies}/`));
    const awsUpSize = await stored(`awscli-${copies}`);
    if (awsUpSize.bytes !== bytes) throw new Error(`awscli uploaded ${awsUpSize.bytes} bytes of ${bytes}`);
    strata.uploaded.push(`awscli: ${mib(awsUpSize.bytes)} in ${awsUpSize.files} objects`);

    const plain = await strata.backup('NoCompression');
    table.add('backup, NoCompression', plain.ms, '`aws s3 cp --recursive` up', awsUp);
    const gzip = await strata.backup('DefaultCompression');
    table.add('backup, DefaultCompression', gzip.ms, '`aws s3 cp --recursive` up', awsUp);
    const rssBackups = await peakRss(child.process.pid);

    // Restores: Strata's into a node without the class, the peer's into an empty directory. Strata
    // fsyncs what it restores and awscli does not, so the peer is also timed followed by `sync`.
    const restored = join(root, 'restored');
    const fresh = () => rm(restored, { recursive: true, force: true });
    const awsDown = await best(() => aws(`cp --recursive s3://${BUCKET}/awscli-1/ ${restored}`), fresh);
    if ((await sizeOf(restored)).bytes !== bytes) throw new Error('awscli restored a different number of bytes');
    const awsDownSync = await best(
      () => aws(`cp --recursive s3://${BUCKET}/awscli-1/ ${restored}`).then(() => run('sync')),
      fresh,
    );
    await fresh();
    table.add(
      'restore, NoCompression',
      await strata.restore(plain.id),
      '`aws s3 cp --recursive` down',
      awsDown,
      awsDownSync,
    );
    table.add(
      'restore, DefaultCompression',
      await strata.restore(gzip.id),
      '`aws s3 cp --recursive` down',
      awsDown,
      awsDownSync,
    );
    const rssRestores = await peakRss(child.process.pid);
    await stop(child);

    // One large object: S3Backend in a child of its own, against awscli on a file of the same size.
    const objectBytes = Math.round(OBJECT_GIB * 1024 ** 3);
    const one = await measureObject(moduleDir, server.env(BUCKET), objectBytes);
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
    table.add(`${object}: S3Backend.write()`, one.writeMs, `\`aws s3 cp\` of a file`, awsPut);
    table.add(`${object}: S3Backend.read() + SHA-256`, one.readMs, '`aws s3 cp - \\| sha256sum`', awsGet);

    table.print();
    console.log(`Store: ${mib(bytes)} in ${files} files. Uploaded: ${strata.uploaded.join('; ')}.`);
    printPeaks('S3Backend', object, { atStart: rssAtStart, backups: rssBackups, restores: rssRestores }, one);
  } finally {
    await server.stop();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
