import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { collect } from '@strata/conformance';
import { NotFoundError } from '@strata/core';
import test from 'ava';
import { type BackendFs, realFs } from '../src/fs.js';
import { FilesystemBackend } from '../src/index.js';
import { crashMidWrite, temporaryDir, untilPartialHolds } from './helpers.js';

test('a process killed mid-write leaves nothing under the final key', async (t) => {
  const root = join(await temporaryDir(t.teardown), 'backups');
  await crashMidWrite(root, 'bk-1/node1/Article/chunk-1', 4 * 1024 * 1024);
  const backend = new FilesystemBackend({ root });
  const error = await backend.read('bk-1/node1/Article/chunk-1').catch((e: unknown) => e);
  t.true(NotFoundError.is(error), 'a half-written object is visible under its final name');
  const listed = [];
  for await (const object of backend.list('')) listed.push(object);
  t.deepEqual(listed, [], 'the write in progress must not be listed');

  // The key is usable again afterwards.
  await backend.write('bk-1/node1/Article/chunk-1', Readable.from([Buffer.from('complete')]));
  t.is((await collect(await backend.read('bk-1/node1/Article/chunk-1'))).toString(), 'complete');
});

test('a process killed mid-overwrite leaves the previous object whole', async (t) => {
  const root = join(await temporaryDir(t.teardown), 'backups');
  const backend = new FilesystemBackend({ root });
  await backend.write('bk-1/backup_config.json', Readable.from([Buffer.from('{"status":"SUCCESS"}')]));
  await crashMidWrite(root, 'bk-1/backup_config.json', 1024 * 1024);
  t.is((await collect(await backend.read('bk-1/backup_config.json'))).toString(), '{"status":"SUCCESS"}');
});

test('a write whose source fails removes its temporary file and the directories it made', async (t) => {
  const root = join(await temporaryDir(t.teardown), 'backups');
  const backend = new FilesystemBackend({ root });
  const source = Readable.from(
    (async function* () {
      yield Buffer.alloc(1024 * 1024);
      throw new Error('source failed');
    })(),
  );
  await backend.write('bk/backup_config.json', Readable.from([Buffer.from('{}')]));
  await t.throwsAsync(backend.write('bk/node1/Class/chunk-1', source), { message: 'source failed' });
  t.deepEqual(
    await readdir(root, { recursive: true }),
    ['bk', 'bk/backup_config.json'],
    'a failed write left something behind',
  );
});

test('delete prunes directories it leaves empty, up to the root', async (t) => {
  const root = join(await temporaryDir(t.teardown), 'backups');
  const backend = new FilesystemBackend({ root });
  await backend.write('bk/node1/Class/chunk-1', Readable.from([Buffer.from('x')]));
  await backend.write('bk/node1/other', Readable.from([Buffer.from('y')]));
  await backend.delete('bk/node1/Class/chunk-1');
  t.deepEqual(await readdir(root, { recursive: true }), ['bk', 'bk/node1', 'bk/node1/other']);
  await backend.delete('bk/node1/other');
  t.deepEqual(await readdir(root), []);
});

test('an abort ends a write whose source stalls: it rejects with the reason and leaves nothing', async (t) => {
  const root = join(await temporaryDir(t.teardown), 'backups');
  const backend = new FilesystemBackend({ root });
  // A stream, not a generator: a generator awaiting forever cannot be destroyed, a stream can.
  const stalled = new Readable({ read() {} });
  stalled.push(Buffer.alloc(1024 * 1024));
  const controller = new AbortController();
  const writing = backend.write('bk/chunk-1', stalled, { signal: controller.signal }).catch((e: unknown) => e);
  await untilPartialHolds(join(root, 'bk'), 1024 * 1024);
  const reason = new Error('canceled while the source stalled');
  controller.abort(reason);
  t.is(await writing, reason);
  t.deepEqual(await readdir(root, { recursive: true }), [], 'the aborted write left something behind');
});

/** The real filesystem, with the handles of files opened for writing failing as `fail` says. */
function failingFs(fail: { write?: (call: number) => boolean; sync?: (call: number) => boolean }): BackendFs {
  let writes = 0;
  let syncs = 0;
  return {
    promises: {
      ...realFs.promises,
      async open(path, flags) {
        const handle = await realFs.promises.open(path, flags);
        if (flags !== 'wx') return handle;
        return {
          stat: () => handle.stat(),
          close: () => handle.close(),
          createReadStream: (options) => handle.createReadStream(options),
          async write(buffer, offset, length) {
            if (fail.write?.(++writes)) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
            return handle.write(buffer, offset, length);
          },
          async sync() {
            if (fail.sync?.(++syncs)) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
            return handle.sync();
          },
        };
      },
    },
  };
}

const MIB = 1024 * 1024;
const pieces = (count: number) => Readable.from(Array.from({ length: count }, () => Buffer.alloc(MIB, 7)));

for (const [what, fail] of [
  ['a disk write in the middle', { write: (call: number) => call === 5 }],
  ['the fsync made in the background while it streams', { sync: (call: number) => call === 1 }],
  ['the last fsync', { sync: (call: number) => call === 3 }],
] as const) {
  test(`a write fails whole when ${what} fails: it rejects with the error and leaves nothing`, async (t) => {
    const root = join(await temporaryDir(t.teardown), 'backups');
    const backend = new FilesystemBackend({ root, fs: failingFs(fail) });
    await t.throwsAsync(backend.write('bk/node1/Class/chunk-1', pieces(40)), { message: /^EIO: i\/o error/ });
    t.deepEqual(await readdir(root, { recursive: true }), [], 'a failed write left something behind');
  });
}

test('a write of many pieces lands whole and in order', async (t) => {
  const root = join(await temporaryDir(t.teardown), 'backups');
  const backend = new FilesystemBackend({ root });
  const source = Readable.from(Array.from({ length: 40 }, (_, i) => Buffer.alloc(MIB, i)));
  t.is(await backend.write('bk/node1/Class/chunk-1', source), 40 * MIB);
  const read = await collect(await backend.read('bk/node1/Class/chunk-1'));
  t.is(read.length, 40 * MIB);
  for (let i = 0; i < 40; i++) t.is(read[i * MIB], i, `piece ${i} in its place`);
});
