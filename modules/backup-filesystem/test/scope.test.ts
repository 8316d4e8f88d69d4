import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { StrataError } from '@strata/core';
import test from 'ava';
import { FilesystemBackend } from '../src/index.js';
import { temporaryDir } from './helpers.js';

test('homePath is <BACKUP_FILESYSTEM_PATH>/<id>, or <config.Path>/<id> under an override', async (t) => {
  const dir = await temporaryDir(t.teardown);
  const backend = new FilesystemBackend({ root: join(dir, 'backups') });
  t.is(backend.homePath('bk-1'), join(dir, 'backups', 'bk-1'));
  t.is(backend.homePath('bk-1', { path: '/mnt/other/' }), '/mnt/other/bk-1');
  t.is(backend.homePath('bk-1', { path: '' }), join(dir, 'backups', 'bk-1'));
});

const refusedScopes: ReadonlyArray<[string, { bucket?: string; path?: string }, string]> = [
  [
    'a bucket',
    { bucket: 'my-bucket' },
    'backup-filesystem: it stores backups in a directory and has no buckets; remove config.Bucket, or set config.Path to another directory',
  ],
  [
    'a relative path',
    { path: 'relative/dir' },
    'backup-filesystem: config.Path must be an absolute directory, got "relative/dir"',
  ],
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
      t.is(error?.message, message);
    }
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
