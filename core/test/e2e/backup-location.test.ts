import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { StrataError } from '../../src/errors.js';
import { filesystemModule, holdChunks, seed, startBackupNode, waitFor } from '../helpers/backups.js';
import { startNode } from '../helpers/node.js';

// Where a backup may live: never in the node's data path, never around it, and for the filesystem
// provider only inside BACKUP_FILESYSTEM_PATH. And what a backup may delete: only what it wrote.

async function sandbox(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-location-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const message = (reply: { body: { error: Array<{ message: string }> } }) => reply.body.error[0]?.message;

test("config.Path outside BACKUP_FILESYSTEM_PATH is refused: the data path's parent, a relative escape, /", async (t) => {
  const dir = await sandbox(t);
  const node = await startBackupNode(t, {}, { dataPath: join(dir, 'data'), backups: join(dir, 'backups') });
  await seed(node, 'Article', 20);
  for (const Path of [dir, '..', '../data', '/']) {
    const reply = await node.request('POST', '/v1/backups/filesystem', { id: 'data', config: { Path } });
    t.is(reply.status, 422, Path);
    t.regex(message(reply) ?? '', /^backup-filesystem: config\.Path must be a directory inside BACKUP_FILESYSTEM_PATH/);
  }
  t.deepEqual((await readdir(dir)).sort(), ['backups', 'data']);
  t.is((await node.request('GET', '/v1/objects?class=Article&limit=100')).body.objects.length, 20);
});

test('a config.Path that leads into the data path through a symbolic link is refused', async (t) => {
  const dir = await sandbox(t);
  const node = await startBackupNode(t, {}, { dataPath: join(dir, 'data'), backups: join(dir, 'backups') });
  await seed(node, 'Article', 5);
  await symlink(join(dir, 'data'), join(dir, 'backups', 'into-data'));
  for (const [method, path, body] of [
    ['POST', '/v1/backups/filesystem', { id: 'x', config: { Path: 'into-data' } }],
    ['POST', '/v1/backups/filesystem/x/restore', { config: { Path: 'into-data' } }],
    ['GET', '/v1/backups/filesystem/x?path=into-data', undefined],
    ['DELETE', '/v1/backups/filesystem/x?path=into-data', undefined],
    ['GET', '/v1/backups/filesystem/x/restore?path=into-data', undefined],
  ] as const) {
    const reply = await node.request(method, path, body);
    t.is(reply.status, 422, `${method} ${path}`);
    t.regex(message(reply) ?? '', /^backups cannot live at ".*into-data\/x": it is inside the node's data path/);
  }
  t.false((await readdir(join(dir, 'data'))).includes('x'));
});

for (const [title, place] of [
  ['the data path itself', (data: string) => data],
  ['inside the data path', (data: string) => join(data, 'backups')],
  ['around the data path', (data: string) => dirname(data)],
] as const) {
  test(`a node whose BACKUP_FILESYSTEM_PATH is ${title} refuses to start, and moves nothing`, async (t) => {
    const dir = await sandbox(t);
    const dataPath = join(dir, 'strata', 'data');
    await mkdir(join(dataPath, 'backups'), { recursive: true });
    await writeFile(join(dataPath, 'backups', 'keep'), 'x');
    const error = (await startNode(
      t,
      { ENABLE_MODULES: filesystemModule, BACKUP_FILESYSTEM_PATH: place(dataPath) },
      { dataPath },
    ).catch((e: unknown) => e)) as StrataError;
    t.is(error.code, 'STRATA_BACKUP_LOCATION');
    t.regex(error.message, /it is inside the node's data path \(PERSISTENCE_DATA_PATH\), or holds it/);
    t.deepEqual(await readdir(dataPath), ['backups'], 'the node did not open the data path');
  });
}

test('a crafted CANCELED descriptor naming nodes and classes outside the backup deletes nothing', async (t) => {
  const dir = await sandbox(t);
  const backups = join(dir, 'backups');
  const node = await startBackupNode(t, {}, { dataPath: join(dir, 'data'), backups });
  await seed(node, 'Article', 5);
  // What the descriptor's names would reach if they were joined to the backup's home unchecked.
  const victims = [
    join(backups, 'victim', 'backup.json'),
    join(dir, 'data', 'schema.json'),
    join(backups, 'x', 'chunk-1'),
  ];
  await mkdir(join(backups, 'victim'), { recursive: true });
  await writeFile(victims[0] as string, 'kept');
  await mkdir(join(backups, 'x'), { recursive: true });
  await writeFile(victims[2] as string, 'kept');
  const before = await Promise.all(victims.map((file) => readFile(file, 'utf8')));
  await mkdir(join(backups, 'crafted'), { recursive: true });
  const crafted = {
    id: 'crafted',
    status: 'CANCELED',
    nodes: {
      '../victim': { classes: ['Article'], status: 'CANCELED', error: '', preCompressionSizeBytes: 0 },
      node1: { classes: ['../../x', '/abs'], status: 'CANCELED', error: '', preCompressionSizeBytes: 0 },
    },
  };
  await writeFile(join(backups, 'crafted', 'backup_config.json'), JSON.stringify(crafted));

  const created = await node.request('POST', '/v1/backups/filesystem', { id: 'crafted' });
  t.is(created.status, 422, 'a damaged descriptor is a backup that is never overwritten');
  t.regex(created.body.error[0].message, /^backup "crafted" already exists at /);
  t.deepEqual(await Promise.all(victims.map((file) => readFile(file, 'utf8'))), before, 'nothing was deleted');
  t.deepEqual(await readdir(join(backups, 'crafted')), ['backup_config.json']);
});

test('creating over a CANCELED backup deletes only the objects it wrote, not everything under its id', async (t) => {
  const dir = await sandbox(t);
  const node = await startBackupNode(t, {}, { dataPath: join(dir, 'data'), backups: join(dir, 'backups') });
  await seed(node, 'Article', 50);
  const hold = holdChunks(node, 'write');
  await node.request('POST', '/v1/backups/filesystem', { id: 'again' });
  await hold.reached;
  t.is((await node.request('DELETE', '/v1/backups/filesystem/again')).status, 204);
  hold.unhold();
  t.is((await node.request('GET', '/v1/backups/filesystem/again')).body.status, 'CANCELED');

  // What someone else keeps beside the backup's objects, some of it named much like them.
  const home = join(dir, 'backups', 'again');
  const foreign = ['notes.txt', 'node1/Article/README', 'node1/Article/chunk-1.bak', 'node1/Other/chunk-1', 'other/x'];
  for (const path of foreign) {
    await mkdir(dirname(join(home, path)), { recursive: true });
    await writeFile(join(home, path), `kept: ${path}`);
  }
  await writeFile(join(home, 'node1', 'Article', 'chunk-7'), 'a chunk of the canceled backup');

  t.is((await node.request('POST', '/v1/backups/filesystem', { id: 'again' })).status, 200);
  t.is((await waitFor(node, '/v1/backups/filesystem/again')).body.status, 'SUCCESS');
  for (const path of foreign) t.is(await readFile(join(home, path), 'utf8'), `kept: ${path}`, path);
  await t.throwsAsync(readFile(join(home, 'node1', 'Article', 'chunk-7')), { code: 'ENOENT' });
});
