import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { holdChunks, readAll, seed, startBackupNode, waitFor } from '../helpers/backups.js';

test('several classes with thousands of objects are backed up, deleted, restored and every object compared', async (t) => {
  const node = await startBackupNode(t);
  const article = await seed(node, 'Article', 3000, 3);
  const author = await seed(node, 'Author', 1000);
  await seed(node, 'Empty', 0);
  const schemaBefore = (await node.request('GET', '/v1/schema')).body;

  const created = await node.request('POST', '/v1/backups/filesystem', { id: 'full-1' });
  t.is(created.status, 200);
  t.deepEqual(created.body, {
    id: 'full-1',
    backend: 'filesystem',
    path: join(node.backups, 'full-1'),
    status: 'STARTED',
    classes: ['Article', 'Author', 'Empty'],
  });
  const done = await waitFor(node, '/v1/backups/filesystem/full-1');
  t.is(done.body.status, 'SUCCESS', done.body.error);
  t.true(done.body.size > 0);
  t.true(Date.parse(done.body.completedAt) >= Date.parse(done.body.startedAt));
  t.is(done.body.progress, undefined, 'progress is reported while running only');
  t.is(
    (await node.request('GET', '/v1/backups/backup-filesystem/full-1')).body.status,
    'SUCCESS',
    'the module name works as well as the alt name',
  );

  for (const name of ['Article', 'Author', 'Empty']) await node.request('DELETE', `/v1/schema/${name}`);
  const restore = await node.request('POST', '/v1/backups/filesystem/full-1/restore', {});
  t.deepEqual(
    [restore.status, restore.body.status, restore.body.classes],
    [200, 'STARTED', ['Article', 'Author', 'Empty']],
  );
  const restored = await waitFor(node, '/v1/backups/filesystem/full-1/restore');
  t.deepEqual(restored.body, {
    id: 'full-1',
    backend: 'filesystem',
    path: join(node.backups, 'full-1'),
    status: 'SUCCESS',
  });

  t.deepEqual((await node.request('GET', '/v1/schema')).body, schemaBefore, 'the schema comes back as it was');
  t.deepEqual(await readAll(node, 'Article'), article);
  t.deepEqual(await readAll(node, 'Author'), author);
  t.is((await readAll(node, 'Empty')).size, 0);
  t.deepEqual(
    await readdir(node.dataPath).then((names) => names.filter((n) => n.startsWith('.'))),
    [],
    'no staging is left behind',
  );
});

test('include and exclude select classes, with wildcards, on backup and on restore', async (t) => {
  const node = await startBackupNode(t);
  for (const name of ['Article', 'ArticleDraft', 'Author']) await seed(node, name, 20);
  const included = await node.request('POST', '/v1/backups/filesystem', { id: 'some', include: ['Art*'] });
  t.deepEqual(included.body.classes, ['Article', 'ArticleDraft'], JSON.stringify(included.body));
  await waitFor(node, '/v1/backups/filesystem/some');
  const excluded = await node.request('POST', '/v1/backups/filesystem', { id: 'most', exclude: ['Auth?r'] });
  t.deepEqual(excluded.body.classes, ['Article', 'ArticleDraft']);
  await waitFor(node, '/v1/backups/filesystem/most');

  await node.request('DELETE', '/v1/schema/ArticleDraft');
  const restore = await node.request('POST', '/v1/backups/filesystem/some/restore', { include: ['*Draft'] });
  t.deepEqual(restore.body.classes, ['ArticleDraft']);
  t.is((await waitFor(node, '/v1/backups/filesystem/some/restore')).body.status, 'SUCCESS');
  t.is((await readAll(node, 'ArticleDraft')).size, 20);
});

test('writes and reads go on during a backup without a single failure', async (t) => {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '16KiB' });
  const seeded = [...(await seed(node, 'Busy', 3000, 2)).keys()];
  let stop = false;
  const counts = { writes: 0, reads: 0, failures: [] as string[] };
  const writer = async () => {
    while (!stop) {
      const reply = await node.request('POST', '/v1/objects', {
        class: 'Busy',
        properties: { title: 'during', rank: -1 },
      });
      if (reply.status === 200) counts.writes++;
      else counts.failures.push(`write: ${reply.status} ${JSON.stringify(reply.body)}`);
    }
  };
  const reader = async () => {
    for (let i = 0; !stop; i++) {
      const reply = await node.request('GET', `/v1/objects/Busy/${seeded[i % seeded.length]}`);
      if (reply.status === 200) counts.reads++;
      else counts.failures.push(`read: ${reply.status}`);
    }
  };
  const load = Promise.all([writer(), writer(), reader()]);
  await node.request('POST', '/v1/backups/filesystem', { id: 'busy', config: { CPUPercentage: 1 } });
  const done = await waitFor(node, '/v1/backups/filesystem/busy');
  stop = true;
  await load;
  t.is(done.body.status, 'SUCCESS');
  t.deepEqual(counts.failures, []);
  t.true(counts.writes > 0 && counts.reads > 0, 'the load ran during the backup');
  t.log(`${counts.writes} writes and ${counts.reads} reads during the backup, 0 failed`);
});

test('a class deleted while its backup uploads does not break the backup', async (t) => {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '16KiB' });
  const objects = await seed(node, 'Doomed', 4000, 2);
  // Chunk uploads wait until released, so the class is deleted while they are certainly in flight.
  const hold = holdChunks(node, 'write');
  await node.request('POST', '/v1/backups/filesystem', { id: 'doomed', config: { CPUPercentage: 1 } });
  await hold.reached;
  t.is((await node.request('GET', '/v1/backups/filesystem/doomed')).body.status, 'TRANSFERRING');
  t.is((await node.request('DELETE', '/v1/schema/Doomed')).status, 200);
  t.is((await node.request('GET', '/v1/backups/filesystem/doomed')).body.status, 'TRANSFERRING', 'still uploading');
  hold.release();
  t.is((await waitFor(node, '/v1/backups/filesystem/doomed')).body.status, 'SUCCESS');
  await node.request('POST', '/v1/backups/filesystem/doomed/restore', {});
  t.is((await waitFor(node, '/v1/backups/filesystem/doomed/restore')).body.status, 'SUCCESS');
  t.deepEqual(await readAll(node, 'Doomed'), objects);
});

test('config.Path writes a backup elsewhere; status, restore and cancel find it there with ?path', async (t) => {
  const node = await startBackupNode(t);
  const elsewhere = join(node.backups, 'elsewhere');
  await seed(node, 'Moved', 10);
  const created = await node.request('POST', '/v1/backups/filesystem', { id: 'moved', config: { Path: elsewhere } });
  t.is(created.body.path, join(elsewhere, 'moved'));
  t.is(
    (await waitFor(node, `/v1/backups/filesystem/moved?path=${encodeURIComponent(elsewhere)}`)).body.status,
    'SUCCESS',
  );
  t.is((await node.request('GET', '/v1/backups/filesystem/moved')).status, 404, 'not in the default location');
  await node.request('DELETE', '/v1/schema/Moved');
  await node.request('POST', '/v1/backups/filesystem/moved/restore', { config: { Path: elsewhere } });
  t.is(
    (await waitFor(node, `/v1/backups/filesystem/moved/restore?path=${encodeURIComponent(elsewhere)}`)).body.status,
    'SUCCESS',
  );
  t.is((await readAll(node, 'Moved')).size, 10);
});

test('backups are listed by start time, newest first unless asked otherwise', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Listed', 5);
  for (const id of ['first', 'second', 'third']) {
    await node.request('POST', '/v1/backups/filesystem', { id });
    await waitFor(node, `/v1/backups/filesystem/${id}`);
  }
  const desc = await node.request('GET', '/v1/backups/filesystem');
  t.deepEqual(
    desc.body.map((b: { id: string }) => b.id),
    ['third', 'second', 'first'],
  );
  t.like(desc.body[0], { classes: ['Listed'], status: 'SUCCESS' });
  const asc = await node.request('GET', '/v1/backups/filesystem?order=asc');
  t.deepEqual(
    asc.body.map((b: { id: string }) => b.id),
    ['first', 'second', 'third'],
  );
});

test('a backup restores on another node with the same name, or with node_mapping', async (t) => {
  const source = await startBackupNode(t);
  const objects = await seed(source, 'Portable', 200, 2);
  await source.request('POST', '/v1/backups/filesystem', { id: 'portable' });
  await waitFor(source, '/v1/backups/filesystem/portable');

  const same = await startBackupNode(t, {}, { backups: source.backups });
  await same.request('POST', '/v1/backups/filesystem/portable/restore', {});
  t.is((await waitFor(same, '/v1/backups/filesystem/portable/restore')).body.status, 'SUCCESS');
  t.deepEqual(await readAll(same, 'Portable'), objects);

  const other = await startBackupNode(t, { CLUSTER_HOSTNAME: 'node2' }, { backups: source.backups });
  const refused = await other.request('POST', '/v1/backups/filesystem/portable/restore', {});
  t.is(refused.status, 422);
  t.is(
    refused.body.error[0].message,
    'the backup holds node "node1", but this node is "node2": restore with "node_mapping": {"node1": "node2"}, or start this node with CLUSTER_HOSTNAME=node1',
  );
  await other.request('POST', '/v1/backups/filesystem/portable/restore', { node_mapping: { node1: 'node2' } });
  t.is((await waitFor(other, '/v1/backups/filesystem/portable/restore')).body.status, 'SUCCESS');
  t.deepEqual(await readAll(other, 'Portable'), objects);
  t.true(other.node.db.shardsOf('Portable').every((shard) => shard.node === 'node2'));
});

for (const { type, level, decompress } of [
  { type: 'gzip', level: undefined, decompress: 'gzip -dc' },
  { type: 'zstd', level: 'ZstdDefaultCompression', decompress: 'zstd -dc' },
] as const) {
  test(`a ${type} backup is inspected, verified and extracted with sha256sum, ${type} and tar alone`, async (t) => {
    const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '64KiB' });
    await seed(node, 'Article', 2000, 2);
    const id = `manual-${type}`;
    await node.request('POST', '/v1/backups/filesystem', {
      id,
      ...(level ? { config: { CompressionLevel: level } } : {}),
    });
    t.is((await waitFor(node, `/v1/backups/filesystem/${id}`)).body.status, 'SUCCESS');
    const home = join(node.backups, id);
    const descriptor = JSON.parse(await readFile(join(home, 'node1', 'backup.json'), 'utf8'));
    t.like(descriptor, { id, version: '2.0', compressionType: type, status: 'SUCCESS' });
    const out = await mkdtemp(join(tmpdir(), 'strata-extract-'));
    t.teardown(() => rm(out, { recursive: true, force: true }));

    const [article] = descriptor.classes;
    t.true(Object.keys(article.chunks).length > 1, 'several chunks');
    for (const chunk of Object.values(article.chunks) as Array<{ key: string; sha256: string }>) {
      const file = join(home, ...chunk.key.split('/'));
      t.is(execFileSync('sha256sum', [file]).toString().split(' ')[0], chunk.sha256);
      execFileSync('sh', ['-c', `${decompress} "${file}" | tar -xf - -C "${out}"`]);
    }
    // The chunks' hashes cover the files: each is there, at its size.
    const files = article.shards.flatMap((shard: { files: Array<{ path: string; size: number }> }) => shard.files);
    for (const file of files) t.is((await stat(join(out, file.path))).size, file.size, file.path);
    t.deepEqual(
      (await readdir(join(out, 'article'))).sort(),
      article.shards.map((shard: { name: string }) => shard.name).sort(),
    );
  });
}

test('a backup at each zstd level is backed up, deleted, restored and every object compared', async (t) => {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '64KiB' });
  const objects = await seed(node, 'Article', 1500, 2);
  for (const level of ['ZstdBestSpeed', 'ZstdDefaultCompression', 'ZstdBestCompression']) {
    const id = level.toLowerCase();
    await node.request('POST', '/v1/backups/filesystem', { id, config: { CompressionLevel: level } });
    t.is((await waitFor(node, `/v1/backups/filesystem/${id}`)).body.status, 'SUCCESS', level);
    await node.request('DELETE', '/v1/schema/Article');
    await node.request('POST', `/v1/backups/filesystem/${id}/restore`, {});
    const restored = await waitFor(node, `/v1/backups/filesystem/${id}/restore`);
    t.is(restored.body.status, 'SUCCESS', `${level}: ${restored.body.error}`);
    t.deepEqual(await readAll(node, 'Article'), objects, level);
  }
});
