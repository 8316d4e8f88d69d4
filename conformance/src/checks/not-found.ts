import { NotFoundError } from '@strata/core';
import { type ConformanceTest, describeError, randomName, rejection, type SuiteRun } from '../harness.js';

const expectation =
  'must reject with NotFoundError from @strata/core (code STRATA_BACKEND_NOT_FOUND) before returning a stream';

/** Every read path reports a missing object with the typed not-found error core relies on. */
export function notFoundChecks(test: ConformanceTest, run: SuiteRun): void {
  test(`${run.label} read(key) of a key never written rejects with NotFoundError`, async (t) => {
    const s = await run.open(t);
    for (const key of [randomName(), `${randomName('dir')}/${randomName()}`]) {
      const error = await rejection(t, () => s.backend.read(key, s.options), `read("${key}")`);
      t.true(NotFoundError.is(error), `read("${key}") of a missing key ${expectation}; got ${describeError(error)}`);
    }
    await s.finish();
  });

  test(`${run.label} read(key) of a deleted key rejects with NotFoundError`, async (t) => {
    const s = await run.open(t);
    const key = randomName();
    await s.put(key, Buffer.from('short-lived'));
    await s.backend.delete(key, s.options);
    const error = await rejection(t, () => s.backend.read(key, s.options), `read("${key}") after delete`);
    t.true(NotFoundError.is(error), `read() of a deleted key ${expectation}; got ${describeError(error)}`);
    await s.finish();
  });

  test(`${run.label} read(prefix) of a key that is only a prefix of others rejects with NotFoundError`, async (t) => {
    const s = await run.open(t);
    const dir = randomName('dir');
    await s.put(`${dir}/inner`, Buffer.from('inside'));
    const error = await rejection(t, () => s.backend.read(dir, s.options), `read("${dir}")`);
    t.true(
      NotFoundError.is(error),
      `read("${dir}"), where only "${dir}/inner" exists, ${expectation}; got ${describeError(error)}`,
    );
    await s.backend.delete(`${dir}/inner`, s.options);
    await s.finish();
  });
}
