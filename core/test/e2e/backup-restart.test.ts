import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { filesystemModule, holdChunks, readAll, seed, startBackupNode, waitFor } from '../helpers/backups.js';
import { request, serveInChild, type TestNode } from '../helpers/node.js';

async function tempDir(t: ExecutionContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A `strata serve` child with the filesystem provider, reachable like an in-process test node. */
async function childNode(t: ExecutionContext, dataPath: string, backups: string) {
  const serve = await serveInChild(t, {
    PERSISTENCE_DATA_PATH: dataPath,
    ENABLE_MODULES: filesystemModule,
    BACKUP_FILESYSTEM_PATH: backups,
    BACKUP_CHUNK_TARGET_SIZE: '4KiB',
  });
  const node = {
    request: (method: string, path: string, body?: unknown) => request(serve.url, method, path, body),
  } as TestNode;
  return { serve, node };
}

/** Polls until `path` reports `status` (and `midway()` holds); fails if the operation finishes first. */
async function untilMidway(
  node: TestNode,
  path: string,
  status: string,
  midway: () => Promise<boolean> = async () => true,
): Promise<void> {
  for (;;) {
    const reply = await node.request('GET', path);
    if (reply.body.status === status && (await midway())) return;
    if (['SUCCESS', 'FAILED', 'CANCELED'].includes(reply.body.status))
      throw new Error(`${path} finished (${reply.body.status}) before it could be interrupted`);
  }
}

test('a node killed mid-upload marks the backup FAILED on restart, deletes its chunks, and backs up again', async (t) => {
  const dataPath = await tempDir(t, 'strata-node-');
  const backups = await tempDir(t, 'strata-backups-');
  const first = await childNode(t, dataPath, backups);
  const objects = await seed(first.node, 'Article', 6000, 4);
  t.is(
    (await first.node.request('POST', '/v1/backups/filesystem', { id: 'interrupted', config: { CPUPercentage: 1 } }))
      .status,
    200,
  );
  const chunks = () =>
    readdir(join(backups, 'interrupted', 'node1', 'Article')).then(
      (names) => names.filter((name) => name.startsWith('chunk-')),
      () => [],
    );
  await untilMidway(
    first.node,
    '/v1/backups/filesystem/interrupted',
    'TRANSFERRING',
    async () => (await chunks()).length > 0,
  );
  first.serve.child.kill('SIGKILL');
  await first.serve.exited;
  t.true(
    (await readdir(join(backups, 'interrupted', 'node1', 'Article'))).length > 0,
    'chunks were uploaded before the kill',
  );

  // What writes the kill cut short leave (it may have hit one, or not): temporary files, beside the
  // chunks and beside the descriptor. Another backup's must stay.
  await writeFile(join(backups, 'interrupted', 'node1', 'Article', '.strata-partial-0123456789abcdef'), 'cut');
  await writeFile(join(backups, 'interrupted', '.strata-partial-fedcba9876543210'), 'cut');
  await mkdir(join(backups, 'other'));
  await writeFile(join(backups, 'other', '.strata-partial-00112233445566ff'), 'in progress elsewhere');

  const second = await startBackupNode(t, {}, { dataPath, backups });
  const status = await second.request('GET', '/v1/backups/filesystem/interrupted');
  t.like(status.body, { status: 'FAILED', error: 'node restarted during backup' });
  t.not(status.body.completedAt, '0001-01-01T00:00:00.000Z');
  const left = await readdir(join(backups, 'interrupted'), { recursive: true, withFileTypes: true });
  t.deepEqual(
    left.filter((entry) => entry.isFile()).map((entry) => entry.name),
    ['backup_config.json'],
    'its chunks are gone, and so are the temporary files of the writes the kill cut short',
  );
  t.deepEqual(await readdir(join(backups, 'other')), ['.strata-partial-00112233445566ff']);
  t.false(
    (await readdir(dataPath)).some((name) => name.startsWith('.')),
    'its staging is gone',
  );
  t.like(
    second.logs.find((line) => String(line.msg).startsWith('marked backup interrupted FAILED')),
    { level: 40 },
  );

  const reused = await second.request('POST', '/v1/backups/filesystem', { id: 'interrupted' });
  t.is(reused.status, 422, 'a FAILED id is not reused, as in Weaviate');
  await second.request('POST', '/v1/backups/filesystem', { id: 'again' });
  t.is((await waitFor(second, '/v1/backups/filesystem/again')).body.status, 'SUCCESS');
  await second.request('DELETE', '/v1/schema/Article');
  await second.request('POST', '/v1/backups/filesystem/again/restore', {});
  t.is((await waitFor(second, '/v1/backups/filesystem/again/restore')).body.status, 'SUCCESS');
  t.deepEqual(await readAll(second, 'Article'), objects, 'every write acknowledged before the kill is backed up');
});

test('a node killed mid-restore marks the restore FAILED on restart and no class is half there', async (t) => {
  const source = await startBackupNode(t);
  await seed(source, 'Article', 2000, 4);
  await source.request('POST', '/v1/backups/filesystem', { id: 'big' });
  t.is((await waitFor(source, '/v1/backups/filesystem/big')).body.status, 'SUCCESS');

  // A FIFO in place of the last chunk: reading it blocks, so the restore is surely mid-way when killed.
  const chunksDir = join(source.backups, 'big', 'node1', 'Article');
  const last = join(chunksDir, (await readdir(chunksDir)).sort().at(-1) as string);
  await rename(last, `${last}.saved`);
  execFileSync('mkfifo', [last]);
  const dataPath = await tempDir(t, 'strata-node-');
  const target = await childNode(t, dataPath, source.backups);
  await target.node.request('POST', '/v1/backups/filesystem/big/restore', {});
  await untilMidway(target.node, '/v1/backups/filesystem/big/restore', 'TRANSFERRING');
  target.serve.child.kill('SIGKILL');
  await target.serve.exited;
  await rm(last);
  await rename(`${last}.saved`, last);

  const restarted = await startBackupNode(t, {}, { dataPath, backups: source.backups });
  t.like((await restarted.request('GET', '/v1/backups/filesystem/big/restore')).body, {
    status: 'FAILED',
    error: 'node restarted during restore',
  });
  t.is((await restarted.request('GET', '/v1/schema/Article')).status, 404);
  t.false(
    (await readdir(dataPath)).some((name) => name.startsWith('.restore')),
    'its staging is gone',
  );
  await restarted.request('POST', '/v1/backups/filesystem/big/restore', {});
  t.is(
    (await waitFor(restarted, '/v1/backups/filesystem/big/restore')).body.status,
    'SUCCESS',
    'the restore can be run again',
  );
  t.is((await readAll(restarted, 'Article')).size, 2000);
});

test('statuses survive a restart: they are read back from the provider', async (t) => {
  const dataPath = await tempDir(t, 'strata-node-');
  const first = await startBackupNode(t, {}, { dataPath });
  await seed(first, 'Article', 100);
  await first.request('POST', '/v1/backups/filesystem', { id: 'kept' });
  const backedUp = await waitFor(first, '/v1/backups/filesystem/kept');
  await first.request('DELETE', '/v1/schema/Article');
  await first.request('POST', '/v1/backups/filesystem/kept/restore', {});
  const restored = await waitFor(first, '/v1/backups/filesystem/kept/restore');
  await first.stop();

  const second = await startBackupNode(t, {}, { dataPath, backups: first.backups });
  t.deepEqual((await second.request('GET', '/v1/backups/filesystem/kept')).body, backedUp.body);
  t.deepEqual((await second.request('GET', '/v1/backups/filesystem/kept/restore')).body, restored.body);
  t.like((await second.request('GET', '/v1/backups/filesystem')).body, [
    { id: 'kept', status: 'SUCCESS', classes: ['Article'] },
  ]);
});

test('a node stopped gracefully during a backup ends it FAILED, and says so after it restarts', async (t) => {
  const dataPath = await tempDir(t, 'strata-node-');
  const first = await startBackupNode(t, {}, { dataPath });
  await seed(first, 'Article', 100);
  const hold = holdChunks(first, 'write');
  await first.request('POST', '/v1/backups/filesystem', { id: 'stopped' });
  await hold.reached;
  await first.stop();

  const second = await startBackupNode(t, {}, { dataPath, backups: first.backups });
  t.like((await second.request('GET', '/v1/backups/filesystem/stopped')).body, {
    status: 'FAILED',
    error: 'node stopped during backup',
  });
  t.deepEqual(await readdir(join(first.backups, 'stopped'), { recursive: true }), ['backup_config.json']);
  t.is(
    second.logs.filter((line) => String(line.msg).startsWith('marked backup')).length,
    0,
    'nothing was left to recover',
  );
});
