import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { StrataError } from '@strata/core';
import test from 'ava';
import { FilesystemBackend } from '../src/index.js';
import { temporaryDir } from './helpers.js';

test('homePath is <BACKUP_FILESYSTEM_PATH>/<id>, or <config.Path>/<id> under an override inside it', async (t) => {
  const dir = await temporaryDir(t.teardown);
  const root = join(dir, 'backups');
  const backend = new FilesystemBackend({ root });
  t.is(backend.homePath('bk-1'), join(root, 'bk-1'));
  t.is(backend.homePath('bk-1', { path: join(root, 'team-a') }), join(root, 'team-a', 'bk-1'));
  t.is(backend.homePath('bk-1', { path: 'team-a/nightly' }), join(root, 'team-a', 'nightly', 'bk-1'));
  t.is(backend.homePath('bk-1', { path: `${root}/` }), join(root, 'bk-1'));
  t.is(backend.homePath('bk-1', { path: '' }), join(root, 'bk-1'));
});

test('a relative config.Path resolves against BACKUP_FILESYSTEM_PATH, and objects land there', async (t) => {
  const dir = await temporaryDir(t.teardown);
  const backend = new FilesystemBackend({ root: dir });
  await backend.write('bk/x', Readable.from([Buffer.from('scoped')]), { scope: { path: 'team-a' } });
  t.is(await readFile(join(dir, 'team-a', 'bk', 'x'), 'utf8'), 'scoped');
});

const outside = 'backup-filesystem: config.Path must be a directory inside BACKUP_FILESYSTEM_PATH';
const refusedScopes: ReadonlyArray<[string, { bucket?: string; path?: string }, string]> = [
  [
    'a bucket',
    { bucket: 'my-bucket' },
    'backup-filesystem: it stores backups in a directory and has no buckets; remove config.Bucket, or set config.Path to another directory',
  ],
  ['an absolute path outside the root', { path: '/mnt/other' }, outside],
  ["the root's parent", { path: '..' }, outside],
  ['a relative path that climbs out', { path: 'a/../../escape' }, outside],
  ['a NUL byte', { path: 'a\0b' }, outside],
];

for (const [title, scope, message] of refusedScopes) {
  test(`an override with ${title} is refused with status 422`, async (t) => {
    const dir = await temporaryDir(t.teardown);
    const backend = new FilesystemBackend({ root: dir });
    const calls: ReadonlyArray<() => unknown> = [
      () => backend.homePath('bk', scope),
      () => backend.write('k', Readable.from([]), { scope }),
      () => backend.read('k', { scope }),
      () => backend.delete('k', { scope }),
      () => backend.checkAccess({ scope }),
      () => backend.discardPartialWrites('', { scope }),
      async () => {
        for await (const _ of backend.list('', { scope })) break;
      },
    ];
    for (const call of calls) {
      const error = (await (async () => call())().then(
        () => undefined,
        (e: unknown) => e,
      )) as StrataError | undefined;
      t.is(error?.code, 'STRATA_BACKEND_UNSUPPORTED_SCOPE');
      t.is(error?.statusCode, 422);
      t.true(error?.message.startsWith(message), error?.message);
    }
    t.deepEqual(await readdir(dir), [], 'nothing was written anywhere');
  });
}

test('checkAccess fails with what to check when the directory cannot be used', async (t) => {
  const dir = await temporaryDir(t.teardown);
  await writeFile(join(dir, 'file'), 'not a directory');
  const backend = new FilesystemBackend({ root: join(dir, 'file', 'backups') });
  const error = (await backend.checkAccess().catch((e: unknown) => e)) as StrataError;
  t.is(error.code, 'STRATA_FS_ROOT_UNAVAILABLE');
  t.true(
    error.message.startsWith(`backup-filesystem cannot use ${join(dir, 'file', 'backups')}: ENOTDIR`),
    error.message,
  );
});
