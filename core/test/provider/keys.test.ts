import test from 'ava';
import { excerpt } from '../../src/errors.js';
import { assertSafeKey, keyPrefix } from '../../src/index.js';

const safe = [
  'a',
  'backup-1/node1/Article/chunk-1',
  'dots.in..name...',
  'unicode-ü-名前',
  'with space',
  '.hidden/x',
  'x'.repeat(1024),
];

const unsafe: ReadonlyArray<[string, string]> = [
  ['', 'it is empty'],
  ['x'.repeat(1025), 'it is longer than 1024 bytes'],
  ['ü'.repeat(513), 'it is longer than 1024 bytes'],
  ['nul\0byte', 'it contains a control character'],
  ['new\nline', 'it contains a control character'],
  ['back\\slash', 'it contains a backslash'],
  ['/absolute', 'it is absolute'],
  ['a//b', 'it has an empty path segment'],
  ['trailing/', 'it has an empty path segment'],
  ['..', 'it has a ".." segment'],
  ['../escape', 'it has a ".." segment'],
  ['a/../../escape', 'it has a ".." segment'],
  ['a/./b', 'it has a "." segment'],
];

for (const key of safe) {
  test(`assertSafeKey accepts ${JSON.stringify(key.slice(0, 40))}`, (t) => {
    t.notThrows(() => assertSafeKey(key));
  });
}

for (const [key, problem] of unsafe) {
  test(`assertSafeKey refuses ${JSON.stringify(key.slice(0, 40))}: ${problem}`, (t) => {
    const error = t.throws(() => assertSafeKey(key)) as Error & { code: string; statusCode: number };
    t.is(error.code, 'STRATA_BACKEND_INVALID_KEY');
    t.is(error.statusCode, 422);
    // Long keys are quoted as a bounded excerpt.
    t.true(error.message.startsWith(`invalid object key ${JSON.stringify(excerpt(key))}: ${problem}`), error.message);
  });
}

test('keyPrefix normalises a path to "" or "a/b/", and refuses one that could escape the root', (t) => {
  t.is(keyPrefix('backup-x', ''), '');
  t.is(keyPrefix('backup-x', '/'), '');
  t.is(keyPrefix('backup-x', '//a//b/'), 'a/b/');
  const error = t.throws(() => keyPrefix('backup-x', 'a/../b'));
  t.is((error as { code?: string }).code, 'STRATA_BACKEND_UNSUPPORTED_SCOPE');
  t.regex(error.message, /^backup-x: config\.Path is not a usable key prefix: .*"\.\." segment/);
});
