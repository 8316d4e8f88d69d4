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

const refusals: ReadonlyArray<[string, (raw: string) => unknown, string, string]> = [
  ['boolean', parsers.boolean, 'maybe', 'expected true or false'],
  ['integer', parsers.integer(), '4.5', 'expected a whole number'],
  ['integer', parsers.integer(), '12abc', 'expected a whole number'],
  ['integer', parsers.integer(), '99999999999999999999', 'expected a whole number'],
  ['integer 1..80', parsers.integer({ min: 1, max: 80 }), '81', 'expected a number from 1 to 80'],
  ['absolutePath', parsers.absolutePath, 'relative/dir', 'relative path provided; use an absolute path'],
  ['absolutePath', parsers.absolutePath, './dir', 'relative path provided; use an absolute path'],
  ['absolutePath', parsers.absolutePath, '/a\0b', 'the path contains a NUL character'],
];

for (const [name, parse, raw, expected] of cases) {
  test(`parsers.${name}(${JSON.stringify(raw)}) is ${JSON.stringify(expected)}`, (t) => {
    t.is(parse(raw), expected);
  });
}

for (const [name, parse, raw, problem] of refusals) {
  test(`parsers.${name}(${JSON.stringify(raw)}) throws ConfigValueError: ${problem}`, (t) => {
    const error = t.throws(() => parse(raw)) as Error & { code: string };
    t.is(error.code, 'STRATA_CONFIG_INVALID_VALUE');
    t.true(error.message.startsWith(problem), error.message);
    t.false(error.message.includes(raw), 'a parser message must not repeat the value (it may be a secret)');
  });
}
