/**
 * `strata backup copy` from S3 to Cloud Storage side by side with a script doing the same with the two
 * client libraries (copy-peer.ts), between the same local servers (s3rver and firebase-tools' GCS
 * emulator, from @strata/testing). A node first backs up a generated store to S3 (NoCompression, so
 * the bytes moved are the store's); then each side copies that backup, the best of the rounds, into
 * a fresh prefix each time.
 *
 * The comparison is not like for like, on purpose: it is what a user pays for Strata's checks. Strata
 * checks every chunk's SHA-256 while it streams and reads every object back from the target to check
 * it again (twice the reads); the peer trusts the upload's own MD5/CRC32C and reads nothing back.
 * All of it runs on one machine, so the copy shares the CPU with both servers.
 *
 * Run with `npm run bench:copy`. BENCH_COPY_GIB sets the store size (default 1), BENCH_DIR where it
 * goes (default the system's temporary directory).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { startGcsEmulator, startS3Server } from '@strata/testing';
import { AT_ONCE } from './at-once.js';
import { BENCH_CLASS, generateStore, sizeOf } from './generate-store.js';
import { best, Comparison, mib, run } from './measure.js';
import { api, finished, serve, stop, strataBin } from './strata-child.js';

const GIB = Number(process.env.BENCH_COPY_GIB ?? 1);
const SHARDS = 32;
const BUCKET = 'bench';
const SOURCE = 'source';
const moduleOf = (name: string) => dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
const peerScript = new URL('./copy-peer.js', import.meta.url).pathname;

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'strata-bench-copy-'));
  const data = join(root, 'data');
  const s3 = await startS3Server({ buckets: [BUCKET] });
  const gcs = await startGcsEmulator({ buckets: [BUCKET] });
  const bucket = new Storage({ apiEndpoint: gcs.endpoint, projectId: gcs.projectId }).bucket(BUCKET);
  /** Bytes and count of the objects under `prefix` in the GCS bucket. */
  const copied = async (prefix: string) => {
    const [files] = await bucket.getFiles({ prefix: `${prefix}/` });
    return { bytes: files.reduce((sum, file) => sum + Number(file.metadata.size), 0), files: files.length };
  };
  const env = { ...s3.env(BUCKET), ...gcs.env(BUCKET), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const table = new Comparison();

  try {
    console.log(`Generating a ${GIB} GiB class of ${SHARDS} shards...`);
    await generateStore(data, GIB, SHARDS);
    const node = await serve(data, { ENABLE_MODULES: moduleOf('@strata/backup-s3'), ...env });
    await api(node, 'POST', '/v1/backups/s3', {
      id: SOURCE,
      include: [BENCH_CLASS],
      config: { CompressionLevel: 'NoCompression' },
    });
    await finished(node, `/v1/backups/s3/${SOURCE}`, 50);
    await stop(node);
    const source = await sizeOf(join(s3.directory, BUCKET, SOURCE), (name) => name.endsWith('._S3rver_object'));
    console.log(`Backup in S3: ${mib(source.bytes)} in ${source.files} objects\n`);

    let rounds = 0;
    const strata = (concurrency: number) =>
      best(() =>
        run(
          `"${process.execPath}" "${strataBin}" backup copy ${SOURCE} --from s3 --to gcs ` +
            `--to-path strata-${++rounds} --concurrency ${concurrency}`,
          { ...env, ENABLE_MODULES: `${moduleOf('@strata/backup-s3')},${moduleOf('@strata/backup-gcs')}` },
        ),
      );
    const peer = await best(() =>
      run(`"${process.execPath}" "${peerScript}" ${SOURCE} peer-${++rounds}`, {
        BENCH_S3_ENDPOINT: s3.endpoint,
        BENCH_GCS_ENDPOINT: gcs.endpoint,
        BENCH_BUCKET: BUCKET,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      }),
    );
    const peerCopy = await copied(`peer-${rounds}`);
    if (peerCopy.bytes !== source.bytes || peerCopy.files !== source.files) {
      throw new Error(`the peer copied ${peerCopy.files} objects, ${peerCopy.bytes} bytes`);
    }
    const peerName = `client libraries, GetObject piped to a GCS upload, ${AT_ONCE} at once`;
    for (const concurrency of [4, AT_ONCE]) {
      const ms = await strata(concurrency);
      const copy = await copied(`strata-${rounds}/${SOURCE}`);
      if (copy.bytes !== source.bytes) throw new Error(`strata copied ${copy.bytes} bytes of ${source.bytes}`);
      const label = concurrency === 4 ? '--concurrency 4 (default)' : `--concurrency ${concurrency}`;
      table.add(`copy S3 -> GCS, ${label}`, ms, peerName, peer);
    }
    table.print();
    console.log(`Copied: ${mib(source.bytes)} in ${source.files} objects, each side into a fresh prefix per round.`);
  } finally {
    await Promise.all([s3.stop(), gcs.stop()]);
    await rm(root, { recursive: true, force: true });
  }
}

await main();
