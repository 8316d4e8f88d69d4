import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { collect } from '@strata/conformance';
import { NotFoundError } from '@strata/core';
import test from 'ava';
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
