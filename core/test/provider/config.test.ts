import test from 'ava';
import { parsers } from '../../src/index.js';

const cases: ReadonlyArray<[string, (raw: string) => unknown, string, unknown]> = [
  ['boolean', parsers.boolean, 'true', true],
  ['boolean', parsers.boolean, 'FALSE', false],
  ['boolean', parsers.boolean, ' yes ', true],
  ['boolean', parsers.boolean, '0', false],
  ['boolean', parsers.boolean, 'off', false],
  ['integer', parsers.integer(), '42', 42],
  ['integer', parsers.integer(), '-7', -7],
  ['integer 1..80', parsers.integer({ min: 1, max: 80 }), '80', 80],
  ['absolutePath', parsers.absolutePath, '/var/lib/strata/', '/var/lib/strata'],
  ['absolutePath', parsers.absolutePath, '/var/./lib//strata/../backups', '/var/lib/backups'],
  ['absolutePath', parsers.absolutePath, '/', '/'],
];

const refusals: ReadonlyArray<[string, (raw: string) => unknown, string, string, string]> = [
  ['boolean', parsers.boolean, 'maybe', 'STRATA_CONFIG_NOT_BOOLEAN', 'expected true or false'],
  ['integer', parsers.integer(), '4.5', 'STRATA_CONFIG_NOT_INTEGER', 'expected a whole number'],
  ['integer', parsers.integer(), '12abc', 'STRATA_CONFIG_NOT_INTEGER', 'expected a whole number'],
  ['integer', parsers.integer(), '99999999999999999999', 'STRATA_CONFIG_NOT_INTEGER', 'expected a whole number'],
  [
    'integer 1..80',
    parsers.integer({ min: 1, max: 80 }),
    '81',
    'STRATA_CONFIG_OUT_OF_RANGE',
    'expected a number from 1 to 80',
  ],
  [
    'byteSize',
    parsers.byteSize,
    'lots',
    'STRATA_CONFIG_NOT_BYTE_SIZE',
    'expected a size such as 10MiB, 500KB or 1048576',
  ],
  ['byteSize', parsers.byteSize, '0.1B', 'STRATA_CONFIG_BYTE_SIZE_TOO_SMALL', 'expected a size of at least 1 byte'],
  ['oneOf', parsers.oneOf(['gzip', 'none']), 'zstd', 'STRATA_CONFIG_NOT_ONE_OF', 'expected one of gzip, none'],
  [
    'absolutePath',
    parsers.absolutePath,
    'relative/dir',
    'STRATA_CONFIG_PATH_RELATIVE',
    'relative path provided; use an absolute path such as /var/lib/strata/backups',
  ],
  [
    'absolutePath',
    parsers.absolutePath,
    './dir',
    'STRATA_CONFIG_PATH_RELATIVE',
    'relative path provided; use an absolute path such as /var/lib/strata/backups',
  ],
  ['absolutePath', parsers.absolutePath, '/a\0b', 'STRATA_CONFIG_PATH_NUL', 'the path contains a NUL character'],
];

for (const [name, parse, raw, expected] of cases) {
  test(`parsers.${name}(${JSON.stringify(raw)}) is ${JSON.stringify(expected)}`, (t) => {
    t.is(parse(raw), expected);
  });
}

for (const [name, parse, raw, code, message] of refusals) {
  test(`parsers.${name}(${JSON.stringify(raw)}) throws ${code}: ${message}`, (t) => {
    const error = t.throws(() => parse(raw)) as Error & { code: string };
    t.is(error.code, code);
    t.is(error.message, message);
    t.false(error.message.includes(raw), 'a parser message must not repeat the value (it may be a secret)');
  });
}
