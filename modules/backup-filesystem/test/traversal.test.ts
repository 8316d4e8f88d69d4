import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { StrataError } from '@strata/core';
import test from 'ava';
import { FilesystemBackend } from '../src/index.js';
import { temporaryDir } from './helpers.js';

/** Keys and backup ids that would escape the root or collide with writes in progress. */
const refused: ReadonlyArray<[string, string]> = [
  ['../escape', 'it has a ".." segment'],
  ['bk/../../escape', 'it has a ".." segment'],
  ['/etc/passwd', 'it is absolute'],
  ['nul\0byte', 'it contains a control character'],
  ['back\\..\\slash', 'it contains a backslash'],
  ['.strata-partial-1234', 'names starting with ".strata-partial-" are reserved for writes in progress'],
  ['bk/.strata-partial-1234/x', 'names starting with ".strata-partial-" are reserved for writes in progress'],
];

for (const [key, problem] of refused) {
  test(`${JSON.stringify(key)} is refused by every call, and nothing is written anywhere`, async (t) => {
    const dir = await temporaryDir(t.teardown);
    const backend = new FilesystemBackend({ root: join(dir, 'a', 'root') });
    await backend.init();
    const calls: ReadonlyArray<[string, () => unknown]> = [
      ['write', () => backend.write(key, Readable.from([Buffer.from('payload')]))],
      ['read', () => backend.read(key)],
      ['delete', () => backend.delete(key)],
      ['homePath', () => backend.homePath(key)],
      [
        'list',
        async () => {
          for await (const _ of backend.list(`${key}/`)) break;
        },
      ],
      ['discardPartialWrites', () => backend.discardPartialWrites(`${key}/`)],
    ];
    for (const [name, call] of calls) {
      const error = (await (async () => call())().then(
        () => undefined,
        (e: unknown) => e,
      )) as StrataError | undefined;
      t.is(error?.code, 'STRATA_BACKEND_INVALID_KEY', `${name}(${JSON.stringify(key)}) was not refused`);
      t.true(error?.message.startsWith(`invalid object key ${JSON.stringify(key)}: ${problem}`), error?.message);
    }
    t.deepEqual(await readdir(dir, { recursive: true }), ['a', 'a/root'], 'a refused call wrote something');
  });
}
