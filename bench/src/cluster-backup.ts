/**
 * A cluster's backup side by side with one node's, on the same machine, against the same s3rver and
 * with the same objects: three classes of 3 shards (BENCH_MB, default 60 MB, of objects with fixed
 * ids) backed up by one single node (no etcd) and by a 3-node cluster (a shard of each class on each
 * node, the backup asked of node1), timed from the create call to SUCCESS; and the coordination each
 * backup costs: from the create call until every participant is TRANSFERRING (as the global
 * descriptor in the bucket says, read straight from s3rver's directory every 2 ms), the median of
 * BENCH_SMALL (default 15, after one not counted) backups of a tiny class, on 3 nodes, on a 1-node
 * cluster (etcd, no fan-out) and on the single node. Every node is a `strata serve` process; etcd
 * runs with the test launcher's settings (no fsync), the single node's operation file is fsynced.
 * Run with `npm run bench:cluster-backup`.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BackupHome } from '@strata/core/backup';
import { type ClusterNode, type S3Server, startCluster, startS3Server } from '@strata/testing';
import { sizeOf } from './generate-store.js';
import { best, mib, seconds } from './measure.js';
import { serve, stop } from './strata-child.js';

const TOTAL_MB = Number(process.env.BENCH_MB ?? 60);
const SMALL = Number(process.env.BENCH_SMALL ?? 15);
const CLASSES = ['BenchArticle', 'BenchAuthor', 'BenchReview'] as const;
const TINY = 'BenchTiny';
const TINY_OBJECTS = 30;
/** Shards of every class, on both setups: one on each node of the cluster. */
const SHARDS = 3;
/** The text of one object: about 2 KB, so the classes hold TOTAL_MB between them. */
const TEXT_BYTES = 2000;
const OBJECTS_PER_CLASS = Math.round((TOTAL_MB * 1e6) / CLASSES.length / (TEXT_BYTES + 200));
const BATCH = 500;
const CLIENTS = 4;
const BUCKET = 'bench';
/** Polling the status of a long backup: every 50 ms costs the node little and the timing less than 1%. */
const STATUS_POLL_MS = 50;
/** Polling the descriptor file for the coordination measure: a file read, no request to any node. */
const DESCRIPTOR_POLL_MS = 2;
const REACHED = new Set(['TRANSFERRING', 'TRANSFERRED', 'FINALIZING', 'SUCCESS']);
const moduleDir = dirname(createRequire(import.meta.url).resolve('@strata/backup-s3/package.json'));

/** A node as the benchmark talks to it. */
interface Target {
  readonly url: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the benchmark reads JSON replies field by field.
async function call(target: Target, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${target.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return text === '' ? undefined : JSON.parse(text);
}

/**
 * Object `i` of class number `c`: the same id and properties in every run and on every setup. Its
 * text is words of pseudo-random letters, which gzip shrinks to about two thirds as it would prose
 * in many languages, rather than to a tenth as repeated words: the backups move the bytes they claim.
 */
function object(c: number, i: number) {
  const seed = createHash('sha256').update(`${c}/${i}`).digest();
  const letters: string[] = [];
  for (let block = seed; letters.length < TEXT_BYTES; block = createHash('sha256').update(block).digest()) {
    for (const byte of block) letters.push(byte % 7 === 0 ? ' ' : String.fromCharCode(97 + (byte % 26)));
  }
  const hex = seed.toString('hex');
  return {
    class: CLASSES[c] ?? TINY,
    id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`,
    properties: { title: `object ${c}/${i}`, body: letters.join('').slice(0, TEXT_BYTES), rank: i },
  };
}

async function createClass(target: Target, className: string, shards: number): Promise<void> {
  await call(target, 'POST', '/v1/schema', {
    class: className,
    properties: [
      { name: 'title', dataType: ['text'] },
      { name: 'body', dataType: ['text'] },
      { name: 'rank', dataType: ['int'] },
    ],
    shardingConfig: { desiredCount: shards },
  });
}

/** Imports `count` objects of class number `c` through `target`, CLIENTS batches at a time. */
async function importClass(target: Target, c: number, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let start = next; start < count; start = next) {
        next += BATCH;
        const objects = Array.from({ length: Math.min(BATCH, count - start) }, (_, j) => object(c, start + j));
        const results = (await call(target, 'POST', '/v1/batch/objects', { objects })) as {
          result: { errors?: unknown };
        }[];
        if (results.some((r) => r.result.errors !== undefined)) throw new Error('a batch object failed');
      }
    }),
  );
}

/** The classes and the tiny class, created and filled through `target`, `shards` shards each. */
async function load(target: Target, shards: number): Promise<void> {
  for (const [c, name] of CLASSES.entries()) {
    await createClass(target, name, shards);
    await importClass(target, c, OBJECTS_PER_CLASS);
  }
  await createClass(target, TINY, shards);
  await importClass(target, CLASSES.length, TINY_OBJECTS);
}

/** Polls the status of backup `id` on `target` until it ends; throws unless SUCCESS. */
async function succeeded(target: Target, id: string): Promise<void> {
  for (;;) {
    const { status, error } = await call(target, 'GET', `/v1/backups/s3/${id}`);
    if (status === 'SUCCESS') return;
    if (status === 'FAILED' || status === 'CANCELED') throw new Error(`backup ${id}: ${status} ${error}`);
    await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
  }
}

/** What one setup measured. */
interface Measured {
  /** Create call to SUCCESS of the backup of the three classes, best of the rounds. */
  readonly backupMs: number;
  /** What that backup stored in the bucket. */
  readonly stored: { bytes: number; files: number };
  /** The bytes of the shards' files it backed up, before compression, as its descriptor says. */
  readonly backedUp: number;
  /** The median of the small backups, create call to every participant TRANSFERRING. */
  readonly transferringMs: number;
  /** The median of the small backups' create calls, until they answered. */
  readonly createdMs: number;
  /** The participants of a small backup, as its global descriptor names them. */
  readonly participants: number;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** The backup's global descriptor as s3rver holds it on disk; undefined until it is there and whole. */
async function globalDescriptor(server: S3Server, id: string) {
  const file = join(server.directory, BUCKET, `${new BackupHome(id).globalKey}._S3rver_object`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as {
      nodes?: Record<string, { status: string }>;
      preCompressionSizeBytes?: number;
    };
  } catch {
    return undefined; // not written yet, or being written
  }
}

/**
 * Backs up the tiny class through `target` SMALL times; for each, the milliseconds until the create
 * call answered and until every participant the descriptor names was TRANSFERRING (or further).
 */
async function coordination(server: S3Server, target: Target, label: string) {
  const created: number[] = [];
  const transferring: number[] = [];
  let participants = 0;
  // Round 0 warms up (connections between the nodes, the module's client) and is not counted.
  for (let round = 0; round <= SMALL; round++) {
    const id = `small-${label}-${round}`;
    const started = performance.now();
    let failed: unknown;
    const creating = call(target, 'POST', '/v1/backups/s3', { id, include: [TINY] }).then(
      () => round > 0 && created.push(performance.now() - started),
      (error: unknown) => {
        failed = error;
      },
    );
    for (;;) {
      const nodes = Object.values((await globalDescriptor(server, id))?.nodes ?? {});
      if (nodes.length > 0 && nodes.every((node) => REACHED.has(node.status))) {
        if (round > 0) transferring.push(performance.now() - started);
        participants = nodes.length;
        break;
      }
      if (failed !== undefined) throw failed;
      if (performance.now() - started > 60_000) throw new Error(`backup ${id}: not TRANSFERRING within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, DESCRIPTOR_POLL_MS));
    }
    await creating;
    await succeeded(target, id);
  }
  return { createdMs: median(created), transferringMs: median(transferring), participants };
}

/** The backup of the three classes through `target`, best of the rounds, and what it stored. */
async function fullBackup(server: S3Server, target: Target, label: string) {
  let round = 0;
  let id = '';
  const backupMs = await best(async () => {
    id = `full-${label}-${++round}`;
    await call(target, 'POST', '/v1/backups/s3', { id, include: [...CLASSES] });
    await succeeded(target, id);
  });
  const stored = await sizeOf(join(server.directory, BUCKET, id), (name) => name.endsWith('._S3rver_object'));
  const backedUp = (await globalDescriptor(server, id))?.preCompressionSizeBytes ?? 0;
  return { backupMs, stored, backedUp };
}

function nodeEnv(server: S3Server): Record<string, string> {
  return { ENABLE_MODULES: moduleDir, ...server.env(BUCKET), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
}

async function singleNode(server: S3Server): Promise<Measured> {
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-bench-single-'));
  const child = await serve(dataPath, nodeEnv(server));
  try {
    // As many shards as the cluster's, so that only where they are differs.
    await load(child, SHARDS);
    const full = await fullBackup(server, child, 'single');
    return { ...full, ...(await coordination(server, child, 'single')) };
  } finally {
    await stop(child);
    await rm(dataPath, { recursive: true, force: true });
  }
}

/** Runs `work` on node1 of a fresh cluster of `nodes` (etcd and `strata serve` processes), then stops it. */
async function onCluster<T>(server: S3Server, nodes: number, work: (node1: ClusterNode) => Promise<T>): Promise<T> {
  // The launcher's default lease TTL (2 s) is for tests that kill nodes; this keeps the default's.
  const cluster = await startCluster({ nodes, env: nodeEnv(server), leaseTtlSeconds: 10 });
  try {
    return await work(cluster.nodes[0] as ClusterNode);
  } finally {
    await cluster.stop();
  }
}

/** The three classes and the tiny one, spread over a 3-node cluster, backed up through node1. */
function threeNodes(server: S3Server): Promise<Measured> {
  return onCluster(server, 3, async (node1) => {
    await load(node1, SHARDS);
    const full = await fullBackup(server, node1, 'cluster3');
    return { ...full, ...(await coordination(server, node1, 'cluster3')) };
  });
}

/** The small backups alone on a 1-node cluster: etcd's part of the coordination, without the fan-out. */
function oneNodeCluster(server: S3Server) {
  return onCluster(server, 1, async (node1) => {
    await createClass(node1, TINY, SHARDS);
    await importClass(node1, CLASSES.length, TINY_OBJECTS);
    return coordination(server, node1, 'cluster1');
  });
}

async function main(): Promise<void> {
  const server = await startS3Server({ buckets: [BUCKET] });
  try {
    console.log(
      `# Backup of a 3-node cluster vs one node: ${CLASSES.length} classes of ${OBJECTS_PER_CLASS.toLocaleString('en')} objects (~${TOTAL_MB} MB), s3rver`,
    );
    console.log(
      `(${cpus().length} cores; every node a \`strata serve\` process on this machine, s3rver and etcd (no fsync) too; backups best of 2, small backups median of ${SMALL})\n`,
    );
    const single = await singleNode(server);
    const three = await threeNodes(server);
    const one = await oneNodeCluster(server);
    const ms = (value: number) => `${value.toFixed(0)} ms`;
    console.log('| Measure | 3-node cluster | Single node | Ratio (cluster / single) |');
    console.log('|---|---|---|---|');
    console.log(
      `| Backup of the 3 classes, create -> SUCCESS | ${seconds(three.backupMs)} | ${seconds(single.backupMs)} | **${(three.backupMs / single.backupMs).toFixed(2)}** |`,
    );
    console.log(
      `| Small backup: create call -> every participant TRANSFERRING, median | ${ms(three.transferringMs)} (${three.participants} participants) | ${ms(single.transferringMs)} | **${(three.transferringMs / single.transferringMs).toFixed(2)}** |`,
    );
    console.log(
      `| Small backup: create call answered, median | ${ms(three.createdMs)} | ${ms(single.createdMs)} | ${(three.createdMs / single.createdMs).toFixed(2)} |`,
    );
    console.log('');
    console.log(
      `1-node cluster (etcd, no fan-out): create -> TRANSFERRING ${ms(one.transferringMs)}, create answered ${ms(one.createdMs)}.`,
    );
    console.log(
      `Backed up (shard files, before compression): cluster ${mib(three.backedUp)}, single node ${mib(single.backedUp)}. ` +
        `Stored: cluster ${mib(three.stored.bytes)} in ${three.stored.files} objects; single node ${mib(single.stored.bytes)} in ${single.stored.files} objects.`,
    );
  } finally {
    await server.stop();
  }
}

await main();
