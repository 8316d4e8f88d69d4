import { Readable } from 'node:stream';
import { InvalidKeyError } from '@strata/core';
import { type ConformanceTest, describeError, rejection, type SuiteRun } from '../harness.js';

/** Keys that could escape the backend's root or mean different things on different stores. */
export const unsafeKeys: readonly string[] = [
  '../escape',
  'a/../../escape',
  '/absolute',
  'a//b',
  'a/./b',
  'nul\0byte',
  '',
];

export function invalidKeyChecks(test: ConformanceTest, run: SuiteRun): void {
  test(`${run.label} write, read and delete refuse unsafe keys with InvalidKeyError`, async (t) => {
    const s = await run.open(t);
    for (const key of unsafeKeys) {
      const calls: ReadonlyArray<[string, () => Promise<unknown>]> = [
        ['write', () => s.backend.write(key, Readable.from([Buffer.from('x')]), s.options)],
        ['read', () => s.backend.read(key, s.options)],
        ['delete', () => s.backend.delete(key, s.options)],
      ];
      for (const [name, call] of calls) {
        const error = await rejection(t, call, `${name}(${JSON.stringify(key)})`);
        t.true(
          InvalidKeyError.is(error),
          `${name}(${JSON.stringify(key)}) must reject with InvalidKeyError (call assertSafeKey from @strata/core); ` +
            `got ${describeError(error)}`,
        );
      }
    }
    await s.finish();
  });
}
