import { definedErrorCodes, documentedErrorCodes } from '@strata/testing';
import test from 'ava';
import { parseEmulatorHost } from '../src/client.js';
import * as errors from '../src/errors.js';

test('docs/errors.md lists exactly the codes backup-gcs defines', async (t) => {
  const documented = await documentedErrorCodes('@strata/backup-gcs');
  t.deepEqual([...documented].sort(), definedErrorCodes(errors).sort());
});

test('a STORAGE_EMULATOR_HOST parseEmulatorHost refuses says so in ConfigValueError words', (t) => {
  for (const [raw, message] of [
    ['http://[::1', 'expected host:port or http://host:port'],
    ['ftp://host:1', 'use http:// or https://'],
    ['http://me:pw@host:1', 'must not contain credentials'],
    ['host:1/elsewhere', 'expected host:port without a path'],
  ] as const) {
    const error = t.throws(() => parseEmulatorHost(raw)) as Error & { code: string };
    t.is(error.code, 'STRATA_CONFIG_INVALID_VALUE', raw);
    t.is(error.message, message, raw);
  }
});
