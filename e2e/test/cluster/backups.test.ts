import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterNode, startCluster, startFaultProxy, startS3Server } from '@strata/testing';
import test from 'ava';
import {
  createSpreadClasses,
  download,
  finished,
  keysUnder,
  readJson,
  readSpread,
  SPREAD_CLASSES,
  s3Backend,
  seedSpread,
  startWriters,
} from '../../src/backup-helpers.js';
import { ARTICLE } from '../../src/cluster-helpers.js';

// Backups and restores across a cluster of three node processes on a real etcd, through s3rver.

/** Where each class's shards are, by node, as GET /v1/nodes answers. */
async function placement(node: ClusterNode): Promise<Record<string, string[]>> {
  const { body } = await node.request('GET', '/v1/nodes?output=verbose');
  const byNode: Record<string, string[]> = {};
  for (const member of body.nodes) {
    byNode[member.name] = member.shards.map((s: { class: string; name: string }) => `${s.class}/${s.name}`).sort();
  }
  return byNode;
}

test('a backup on node2 while writers write through every node; classes deleted; restored on node3; every object back', async (t) => {
  const s3 = await startS3Server({ buckets: ['backups'] });
  t.teardown(() => s3.stop());
  const cluster = await startCluster({ nodes: 3, env: { ENABLE_MODULES: 'backup-s3', ...s3.env('backups') } });
  t.teardown(() => cluster.stop());
  const [node1, node2, node3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  await createSpreadClasses(node1);
  const seeded = await seedSpread(node1, 1500);
  const before = await placement(node1);
  t.is(Object.values(before).flat().length, 6, 'six shards over the three nodes');
  t.true(
    Object.values(before).every((shards) => shards.length > 0),
    JSON.stringify(before),
  );

  const writers = startWriters(cluster.nodes);
  const created = await node2.request('POST', '/v1/backups/s3', { id: 'spread' });
  t.is(created.status, 200, JSON.stringify(created.body));
  t.deepEqual(created.body.classes, ['Article', 'Note', 'Tag']);
  t.is(created.body.status, 'STARTED');

  // Every node answers the status while it runs, and the same outcome after.
  const running = await Promise.all(cluster.nodes.map((node) => node.request('GET', '/v1/backups/s3/spread')));
  for (const reply of running) t.is(reply.status, 200, JSON.stringify(reply.body));
  const outcomes = await Promise.all(cluster.nodes.map((node) => finished(node, '/v1/backups/s3/spread')));
  const { written, failed } = await writers.stop();
  t.is(failed, 0, 'no write failed while the backup ran');
  t.true(written.size > 0);
  for (const outcome of outcomes) {
    t.is(outcome.status, 'SUCCESS', JSON.stringify(outcome));
    t.is(outcome.id, 'spread');
  }
  t.deepEqual(
    new Set(outcomes.map((o) => JSON.stringify({ ...o, progress: undefined }))).size,
    1,
    'the same on every node',
  );
  const lists = await Promise.all(cluster.nodes.map((node) => node.request('GET', '/v1/backups/s3')));
  for (const list of lists)
    t.deepEqual(
      list.body.map((b: { id: string; status: string }) => [b.id, b.status]),
      [['spread', 'SUCCESS']],
    );

  // Weaviate's layout: one global descriptor, one node descriptor and chunks per node.
  const { backend, close } = await s3Backend(s3.env('backups'));
  t.teardown(close);
  const global = await readJson(backend, 'spread/backup_config.json');
  t.is(global.status, 'SUCCESS');
  t.is(global.leader, 'node2');
  t.deepEqual(Object.keys(global.nodes).sort(), ['node1', 'node2', 'node3']);
  for (const [name, part] of Object.entries(global.nodes) as Array<[string, { classes: string[]; status: string }]>) {
    t.is(part.status, 'SUCCESS');
    const held = [...new Set(before[name]?.map((shard) => shard.split('/')[0]))].sort();
    t.deepEqual([...part.classes].sort(), held, `${name} records the classes it holds`);
    const keys = await keysUnder(backend, `spread/${name}/`);
    t.true(keys.includes(`spread/${name}/backup.json`));
    t.true(keys.some((key) => key.includes('/chunk-')));
  }

  // By hand, as docs/backup-format.md says: downloaded, every node's chunks checked with sha256sum,
  // extracted with gzip and tar, every file there at the size its node's descriptor gives.
  const downloaded = await mkdtemp(join(tmpdir(), 'strata-by-hand-'));
  t.teardown(() => rm(downloaded, { recursive: true, force: true }));
  await download(backend, 'spread/', downloaded);
  const home = join(downloaded, 'spread');
  const extracted = join(downloaded, 'extracted');
  await mkdir(extracted);
  for (const name of Object.keys(global.nodes)) {
    const descriptor = JSON.parse(await readFile(join(home, name, 'backup.json'), 'utf8'));
    t.is(descriptor.version, '2.0');
    const chunks = descriptor.classes.flatMap((c: { chunks: Record<string, { key: string; sha256: string }> }) =>
      Object.values(c.chunks).map((chunk) => `${chunk.sha256}  ${chunk.key}\n`),
    );
    t.true(chunks.length > 0, `${name} lists its chunks`);
    execFileSync('sha256sum', ['-c', '--quiet'], { cwd: home, input: chunks.join('') });
    execFileSync(
      'sh',
      ['-c', `for chunk in ${name}/*/chunk-*; do gzip -dc "$chunk" | tar -xf - -C "${extracted}"; done`],
      {
        cwd: home,
      },
    );
    const files = descriptor.classes.flatMap((c: { shards: Array<{ files: Array<{ path: string; size: number }> }> }) =>
      c.shards.flatMap((shard) => shard.files),
    );
    for (const file of files) t.is((await stat(join(extracted, file.path))).size, file.size, file.path);
  }
  const shardDirs = (await readdir(extracted, { recursive: true })).filter((p) => p.split('/').length === 2);
  t.is(shardDirs.length, 6, `every shard of every node extracted: ${shardDirs.join(', ')}`);

  for (const { class: name } of SPREAD_CLASSES) t.is((await node1.request('DELETE', `/v1/schema/${name}`)).status, 200);
  const restore = await node3.request('POST', '/v1/backups/s3/spread/restore', {});
  t.is(restore.status, 200, JSON.stringify(restore.body));
  t.deepEqual([...restore.body.classes].sort(), ['Article', 'Note', 'Tag']);
  const restored = await finished(node1, '/v1/backups/s3/spread/restore');
  t.is(restored.status, 'SUCCESS', JSON.stringify(restored));
  t.is((await node2.request('GET', '/v1/backups/s3/spread/restore')).body.status, 'SUCCESS');

  t.deepEqual(await placement(node2), before, 'every shard back on the node it was on');
  const back = await readSpread(node2);
  for (const [id, object] of seeded) {
    const got = back.get(id);
    t.truthy(got, `seeded object ${id} restored`);
    if (got === undefined) break;
    t.deepEqual({ class: got.class, id: got.id, properties: got.properties }, object);
  }
  // What the writers wrote while it ran is in the backup as of each shard's snapshot: whatever came back is theirs, intact.
  for (const [id, got] of back) {
    const object = seeded.get(id) ?? written.get(id);
    t.truthy(object, `restored object ${id} was written`);
    if (!seeded.has(id)) t.deepEqual({ class: got.class, id: got.id, properties: got.properties }, object);
  }
  t.true(back.size >= seeded.size);
});

test('a backup restores into a fresh cluster with other node names through node_mapping; refused up front for a node that is not live and a class that exists', async (t) => {
  const s3 = await startS3Server({ buckets: ['backups'] });
  t.teardown(() => s3.stop());
  const env = { ENABLE_MODULES: 'backup-s3', ...s3.env('backups') };
  const source = await startCluster({ nodes: 3, env });
  t.teardown(() => source.stop());
  const [node1] = source.nodes as [ClusterNode];
  await createSpreadClasses(node1);
  const seeded = await seedSpread(node1, 300);
  const before = await placement(node1);
  t.is((await node1.request('POST', '/v1/backups/s3', { id: 'moving' })).status, 200);
  t.is((await finished(node1, '/v1/backups/s3/moving')).status, 'SUCCESS');
  await source.stop();

  const target = await startCluster({ nodes: 0, env });
  t.teardown(() => target.stop());
  const alpha = await target.startNode('alpha');
  const beta = await target.startNode('beta');
  const gamma = await target.startNode('gamma');
  const mapping = { node1: 'alpha', node2: 'beta', node3: 'gamma' };

  const unmapped = await beta.request('POST', '/v1/backups/s3/moving/restore', {});
  t.is(unmapped.status, 422);
  t.regex(
    unmapped.body.error[0].message,
    /^the backup holds node "node\d", but no live member of this cluster is named so \(live: /,
  );
  const missing = await beta.request('POST', '/v1/backups/s3/moving/restore', {
    node_mapping: { ...mapping, node3: 'delta' },
  });
  t.is(missing.status, 422);
  t.regex(missing.body.error[0].message, /^the backup holds node "node3", mapped to "delta", but no live member/);
  const twice = await beta.request('POST', '/v1/backups/s3/moving/restore', {
    node_mapping: { ...mapping, node3: 'alpha' },
  });
  t.is(twice.status, 422);
  t.regex(twice.body.error[0].message, /would both be restored on alpha/);
  const stranger = await beta.request('POST', '/v1/backups/s3/moving/restore', {
    node_mapping: { ...mapping, node9: 'alpha' },
  });
  t.is(stranger.status, 422);
  t.is(
    stranger.body.error[0].message,
    'node_mapping: node "node9" is not a node of backup moving (its nodes: node1, node2, node3)',
  );

  t.is((await alpha.request('POST', '/v1/schema', { class: 'Note' })).status, 200);
  const exists = await beta.request('POST', '/v1/backups/s3/moving/restore', { node_mapping: mapping });
  t.is(exists.status, 422);
  t.regex(exists.body.error[0].message, /^cannot restore class Note: already exists/);
  for (const node of [alpha, beta, gamma]) {
    t.deepEqual(
      (await node.request('GET', '/v1/schema')).body.classes.map((c: { class: string }) => c.class),
      ['Note'],
      'a refused restore created nothing',
    );
  }
  t.is((await gamma.request('DELETE', '/v1/schema/Note')).status, 200);

  const restore = await beta.request('POST', '/v1/backups/s3/moving/restore', { node_mapping: mapping });
  t.is(restore.status, 200, JSON.stringify(restore.body));
  t.is((await finished(gamma, '/v1/backups/s3/moving/restore')).status, 'SUCCESS');
  const after = await placement(alpha);
  const renamed = Object.fromEntries(
    Object.entries(before).map(([node, shards]) => [mapping[node as keyof typeof mapping], shards]),
  );
  t.deepEqual(after, renamed, 'each node of the backup restored on the node it maps to');
  const back = await readSpread(gamma);
  t.is(back.size, seeded.size);
  for (const [id, object] of seeded) {
    const got = back.get(id);
    t.deepEqual(got === undefined ? undefined : { class: got.class, id: got.id, properties: got.properties }, object);
  }
});

test('a cancel sent to any node cancels the backup its coordinator runs; a second operation anywhere is refused while one runs', async (t) => {
  const s3 = await startS3Server({ buckets: ['backups'] });
  t.teardown(() => s3.stop());
  // Chunks crawl through the proxy, so the backup is still uploading when the cancel comes.
  const proxy = await startFaultProxy(s3.endpoint, ({ method, url }) =>
    method === 'PUT' && url.includes('/chunk-') ? { kind: 'stall', ms: 1500 } : undefined,
  );
  t.teardown(() => proxy.stop());
  const env = { ENABLE_MODULES: 'backup-s3', ...s3.env('backups'), BACKUP_S3_ENDPOINT: proxy.endpoint };
  const cluster = await startCluster({ nodes: 3, env });
  t.teardown(() => cluster.stop());
  const [node1, node2, node3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  await createSpreadClasses(node1);
  await seedSpread(node1, 100);
  t.is((await node1.request('POST', '/v1/backups/s3', { id: 'doomed' })).status, 200);
  const busy = await node2.request('POST', '/v1/backups/s3', { id: 'other' });
  t.is(busy.status, 422);
  t.deepEqual(busy.body, { error: [{ message: 'backup doomed already in progress' }] });
  const cancel = await node3.request('DELETE', '/v1/backups/s3/doomed');
  t.is(cancel.status, 204, JSON.stringify(cancel.body));
  for (const node of cluster.nodes) t.is((await finished(node, '/v1/backups/s3/doomed')).status, 'CANCELED');
  const { backend, close } = await s3Backend(s3.env('backups'));
  t.teardown(close);
  t.deepEqual(await keysUnder(backend, 'doomed/'), ['doomed/backup_config.json'], 'no chunk of any node left');
});

test("the filesystem provider on a cluster of more than one node is refused with Weaviate's 422; on one node it works", async (t) => {
  const backups = await mkdtemp(join(tmpdir(), 'strata-cluster-backups-'));
  t.teardown(() => rm(backups, { recursive: true, force: true }));
  const env = { ENABLE_MODULES: 'backup-filesystem', BACKUP_FILESYSTEM_PATH: backups };
  const cluster = await startCluster({ nodes: 1, env });
  t.teardown(() => cluster.stop());
  const [node1] = cluster.nodes as [ClusterNode];
  t.is((await node1.request('POST', '/v1/schema', ARTICLE)).status, 200);
  t.is((await node1.request('POST', '/v1/backups/filesystem', { id: 'alone' })).status, 200);
  t.is((await finished(node1, '/v1/backups/filesystem/alone')).status, 'SUCCESS', 'one node: its own disk will do');
  t.is((await node1.request('DELETE', '/v1/schema/Article')).status, 200);
  t.is((await node1.request('POST', '/v1/backups/filesystem/alone/restore', {})).status, 200);
  t.is((await finished(node1, '/v1/backups/filesystem/alone/restore')).status, 'SUCCESS');

  await cluster.startNode('node2');
  for (const [method, path, body] of [
    ['POST', '/v1/backups/filesystem', { id: 'two' }],
    ['POST', '/v1/backups/filesystem/alone/restore', {}],
  ] as const) {
    const reply = await node1.request(method, path, body);
    t.is(reply.status, 422, path);
    t.deepEqual(reply.body, {
      error: [{ message: 'local filesystem backend is not viable for backing up a node cluster, try s3 or gcs' }],
    });
  }
});
