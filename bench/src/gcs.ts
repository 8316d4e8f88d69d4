/**
 * GCS backups side by side with Google's own client library, against the same Cloud Storage emulator
 * (firebase-tools', from @strata/testing): a node's backup of a generated store through backup-gcs
 * (NoCompression and DefaultCompression) against gcs-peer.ts uploading the class's files, both ways;
 * then one 1 GiB object through the backend's `write()`/`read()` against the peer's `put`/`get` of a
 * 1 GiB file, with the backend's peak RSS.
 *
 * The node runs as a `strata serve` child, the single object in a child of its own and the peer in
 * its own, so each VmHWM is its own. The emulator runs on the same machine, so all share its CPU.
 *
 * Run with `npm run bench:gcs`. BENCH_GCS_GIB sets the store size (default 1), BENCH_GCS_OBJECT_GIB
 * the single object's (default 1), BENCH_DIR where the store goes (default the system's temporary
 * directory).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { startGcsEmulator } from '@strata/testing';
import { BENCH_CLASS, generateStore, sizeOf } from './generate-store.js';
import { best, Comparison, measureObject, mib, printPeaks, run } from './measure.js';
import { nodeOperations } from './node-operations.js';
import { peakRss, serve, stop } from './strata-child.js';

const GIB = Number(process.env.BENCH_GCS_GIB ?? 1);
const OBJECT_GIB = Number(process.env.BENCH_GCS_OBJECT_GIB ?? 1);
const SHARDS = 32;
const BUCKET = 'bench';
const moduleDir = dirname(createRequire(import.meta.url).resolve('@strata/backup-gcs/package.json'));
const peerScript = new URL('./gcs-peer.js', import.meta.url).pathname;

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'strata-bench-gcs-'));
  const data = join(root, 'data');
  const store = join(data, BENCH_CLASS.toLowerCase());
  const emulator = await startGcsEmulator({ buckets: [BUCKET] });
  const peer = (args: string) =>
    run(`"${process.execPath}" "${peerScript}" ${args}`, {
      BENCH_GCS_ENDPOINT: emulator.endpoint,
      BENCH_GCS_BUCKET: BUCKET,
    });
  const bucket = new Storage({ apiEndpoint: emulator.endpoint, projectId: emulator.projectId }).bucket(BUCKET);
  /** Bytes and count of the objects under `prefix`, as the emulator lists them. */
  const stored = async (prefix: string) => {
    const [files] = await bucket.getFiles({ prefix: `${prefix}/` });
    return { bytes: files.reduce((sum, file) => sum + Number(file.metadata.size), 0), files: files.length };
  };
  const table = new Comparison();

  try {
    console.log(`Generating a ${GIB} GiB class of ${SHARDS} shards...`);
    await generateStore(data, GIB, SHARDS);
    const child = await serve(data, { ENABLE_MODULES: moduleDir, ...emulator.env(BUCKET) });
    const rssAtStart = await peakRss(child.process.pid);
    const { bytes, files } = await sizeOf(store);
    console.log(`Store: ${mib(bytes)} in ${files} files\n`);

    const strata = nodeOperations(child, 'gcs', stored);
    let copies = 0;
    const peerUp = await best(() => peer(`up ${store} peer-${++copies}`));
    const peerUpSize = await stored(`peer-${copies}`);
    if (peerUpSize.bytes !== bytes) throw new Error(`the peer uploaded ${peerUpSize.bytes} bytes of ${bytes}`);
    strata.uploaded.push(`peer: ${mib(peerUpSize.bytes)} in ${peerUpSize.files} objects`);

    const plain = await strata.backup('NoCompression');
    table.add('backup, NoCompression', plain.ms, 'client library, 10 uploads at once', peerUp);
    const gzip = await strata.backup('DefaultCompression');
    table.add('backup, DefaultCompression', gzip.ms, 'client library, 10 uploads at once', peerUp);
    const rssBackups = await peakRss(child.process.pid);

    // Strata fsyncs what it restores and the peer does not, so the peer is also timed followed by `sync`.
    const restored = join(root, 'restored');
    const fresh = () => rm(restored, { recursive: true, force: true });
    const peerDown = await best(() => peer(`down peer-1 ${restored}`), fresh);
    if ((await sizeOf(restored)).bytes !== bytes) throw new Error('the peer restored a different number of bytes');
    const peerDownSync = await best(() => peer(`down peer-1 ${restored}`).then(() => run('sync')), fresh);
    await fresh();
    const down = 'client library, 10 downloads at once';
    table.add('restore, NoCompression', await strata.restore(plain.id), down, peerDown, peerDownSync);
    table.add('restore, DefaultCompression', await strata.restore(gzip.id), down, peerDown, peerDownSync);
    const rssRestores = await peakRss(child.process.pid);
    await stop(child);

    // One large object: the backend in a child of its own, against the peer on a file of the same size.
    const objectBytes = Math.round(OBJECT_GIB * 1024 ** 3);
    const one = await measureObject(moduleDir, emulator.env(BUCKET), objectBytes);
    const big = join(root, 'object');
    const expected = (await run(`head -c ${objectBytes} /dev/urandom | tee ${big} | sha256sum`)).split(' ')[0];
    const peerPut = await best(() => peer(`put ${big} peer-object`));
    let peerHash = '';
    const peerGet = await best(async () => {
      peerHash = (await peer('get peer-object')).trim();
    });
    if (peerHash !== expected) throw new Error('the peer read back a different object');
    const object = `${mib(objectBytes)} object`;
    table.add(`${object}: GcsBackend.write()`, one.writeMs, 'client library `upload()` of a file', peerPut);
    table.add(`${object}: GcsBackend.read() + SHA-256`, one.readMs, 'client library read + SHA-256', peerGet);

    table.print();
    console.log(`Store: ${mib(bytes)} in ${files} files. Uploaded: ${strata.uploaded.join('; ')}.`);
    printPeaks('GcsBackend', object, { atStart: rssAtStart, backups: rssBackups, restores: rssRestores }, one);
  } finally {
    await emulator.stop();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
