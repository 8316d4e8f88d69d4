import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { collect } from '@strata/conformance';
import type { StrataError } from '@strata/core';
import test from 'ava';
import { memfs } from 'memfs';
import { type BackendFs, FilesystemBackend } from '../src/index.js';
import { crashMidWrite, temporaryDir } from './helpers.js';

const MiB = 1024 * 1024;
const put = (backend: FilesystemBackend, key: string, text: string) =>
  backend.write(key, Readable.from([Buffer.from(text)]));
const tree = async (root: string) => (await readdir(root, { recursive: true })).sort();

test('what writers killed mid-write left is removed for the crashed backup only, and its empty directories', async (t) => {
  const root = join(await temporaryDir(t.teardown), 'backups');
  const backend = new FilesystemBackend({ root });
  await put(backend, 'bk-1/backup_config.json', '{}');
  await put(backend, 'bk-2/backup_config.json', '{}');
  await crashMidWrite(root, 'bk-1/node1/Article/chunk-1', 2 * MiB);
  await crashMidWrite(root, 'bk-1/node1/Book/chunk-7', MiB);
  await crashMidWrite(root, 'bk-2/node1/Article/chunk-3', MiB);
  const leftovers = (await tree(root)).filter((path) => path.includes('.strata-partial-'));
  t.is(leftovers.length, 3, 'each crash left its temporary file');

  t.is(await backend.discardPartialWrites('bk-1/'), 2);
  const after = await tree(root);
  t.deepEqual(
    after.filter((path) => !path.startsWith('bk-2/node1/')),
    ['bk-1', 'bk-1/backup_config.json', 'bk-2', 'bk-2/backup_config.json', 'bk-2/node1'],
    'bk-1 keeps its finished object and loses its temporary files and the directories they were alone in',
  );
  t.is(after.filter((path) => path.includes('.strata-partial-')).length, 1, "bk-2's temporary file is untouched");
  t.is((await collect(await backend.read('bk-1/backup_config.json'))).toString(), '{}');
  t.is(await backend.discardPartialWrites('bk-1/'), 0, 'a second call finds nothing');

  t.is(await backend.discardPartialWrites(''), 1, "the empty prefix reaches bk-2's too");
  t.deepEqual(await tree(root), ['bk-1', 'bk-1/backup_config.json', 'bk-2', 'bk-2/backup_config.json']);
});

test('leftovers planted as crashes leave them are removed at every depth, objects and other files kept', async (t) => {
  const { fs } = memfs({
    '/backups/bk/backup_config.json': '{}',
    '/backups/bk/.strata-partial-0a1b2c3d4e5f6071': 'half a descriptor',
    '/backups/bk/node1/Article/chunk-1': 'finished chunk',
    '/backups/bk/node1/Article/.strata-partial-1111111111111111': 'x'.repeat(1000),
    '/backups/bk/node1/Article/.strata-partial-2222222222222222': '',
    '/backups/bk/node1/Book/.strata-partial-3333333333333333': 'y',
    '/backups/bk/node1/Book/deeper/still/.strata-partial-4444444444444444': 'z',
    '/backups/bk/node1/notes.strata-partial-kept': 'not a temporary file: the name only contains the marker',
    '/backups/other/.strata-partial-5555555555555555': 'another backup',
  });
  const backend = new FilesystemBackend({ root: '/backups', fs: fs as unknown as BackendFs });
  t.is(await backend.discardPartialWrites('bk/'), 5);
  t.deepEqual((fs.readdirSync('/backups', { recursive: true }) as string[]).sort(), [
    'bk',
    'bk/backup_config.json',
    'bk/node1',
    'bk/node1/Article',
    'bk/node1/Article/chunk-1',
    'bk/node1/notes.strata-partial-kept',
    'other',
    'other/.strata-partial-5555555555555555',
  ]);
});

test('discardPartialWrites follows no symbolic link out of the root', async (t) => {
  const dir = await temporaryDir(t.teardown);
  const outside = join(dir, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, '.strata-partial-0000000000000000'), 'not ours');
  const root = join(dir, 'backups');
  await mkdir(join(root, 'bk'), { recursive: true });
  await symlink(outside, join(root, 'bk', 'link'), 'dir');
  const backend = new FilesystemBackend({ root });
  t.is(await backend.discardPartialWrites('bk/'), 0);
  t.deepEqual(await readdir(outside), ['.strata-partial-0000000000000000']);
});

test('discardPartialWrites under config.Path works in that directory, not the configured one', async (t) => {
  const root = join(await temporaryDir(t.teardown), 'backups');
  const backend = new FilesystemBackend({ root });
  await crashMidWrite(root, 'bk/chunk-1', MiB);
  await crashMidWrite(join(root, 'team-a'), 'bk/chunk-1', MiB);
  t.is(await backend.discardPartialWrites('bk/', { scope: { path: 'team-a' } }), 1);
  t.deepEqual(await readdir(join(root, 'team-a')), []);
  t.is((await readdir(join(root, 'bk'))).length, 1, 'the configured directory is untouched');
});

test('a prefix that does not end with "/" is refused, saying what to pass', async (t) => {
  const dir = await temporaryDir(t.teardown);
  const backend = new FilesystemBackend({ root: dir });
  const error = (await backend.discardPartialWrites('bk').catch((e: unknown) => e)) as StrataError;
  t.is(error.code, 'STRATA_BACKEND_INVALID_KEY');
  t.is(
    error.message,
    'invalid object key "bk": discardPartialWrites() takes "" or a prefix that ends with "/", such as "<backupId>/"',
  );
});

test('a directory that cannot be read or cleaned fails with what to check', async (t) => {
  const { fs } = memfs({ '/backups/bk/.strata-partial-1111111111111111': 'x' });
  const denied = Object.assign(new Error("EACCES: permission denied, unlink '/backups/bk/.strata-partial-1111'"), {
    code: 'EACCES',
  });
  const faulty = {
    promises: { ...fs.promises, unlink: () => Promise.reject(denied) },
  } as unknown as BackendFs;
  const backend = new FilesystemBackend({ root: '/backups', fs: faulty });
  const error = (await backend.discardPartialWrites('bk/').catch((e: unknown) => e)) as StrataError;
  t.is(error.code, 'STRATA_FS_ROOT_UNAVAILABLE');
  t.true(
    error.message.startsWith('backup-filesystem cannot use /backups: EACCES: permission denied, unlink'),
    error.message,
  );
  t.is(error.cause, denied);
});

test('an aborted discardPartialWrites rejects with the reason', async (t) => {
  const { fs } = memfs({ '/backups/bk/.strata-partial-1111111111111111': 'x' });
  const backend = new FilesystemBackend({ root: '/backups', fs: fs as unknown as BackendFs });
  const controller = new AbortController();
  const reason = new Error('stopping');
  controller.abort(reason);
  t.is(await backend.discardPartialWrites('bk/', { signal: controller.signal }).catch((e: unknown) => e), reason);
  t.deepEqual(fs.readdirSync('/backups/bk'), ['.strata-partial-1111111111111111']);
});
