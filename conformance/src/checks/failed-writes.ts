import { Readable } from 'node:stream';
import { NotFoundError } from '@strata/core';
import { type ConformanceTest, describeError, randomName, rejection, type SuiteRun } from '../harness.js';

const MiB = 1024 * 1024;

/** A source that yields `chunks` MiB, then fails. */
function failingSource(chunks: number, failure: Error): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < chunks; i++) yield Buffer.alloc(MiB, i);
      throw failure;
    })(),
  );
}

/** A source that yields a MiB at a time until it is destroyed. */
function endlessSource(): Readable {
  return Readable.from(
    (async function* () {
      for (;;) {
        yield Buffer.alloc(MiB, 7);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })(),
  );
}

export function failedWriteChecks(test: ConformanceTest, run: SuiteRun): void {
  test(`${run.label} a write whose source stream fails rejects and leaves nothing under the key`, async (t) => {
    const s = await run.open(t);
    const key = randomName('failing');
    const failure = new Error('source failed on purpose');
    const error = await rejection(t, () => s.backend.write(key, failingSource(2, failure), s.options), 'write()');
    t.true(error !== undefined, 'write() of a failing stream must reject');
    const read = await rejection(t, () => s.backend.read(key, s.options), 'read() after a failed write');
    t.true(
      NotFoundError.is(read),
      `a failed write must leave no object under its key; read() gave ${describeError(read)}`,
    );
    await s.finish();
  });

  test(`${run.label} a failed overwrite leaves the previous object intact`, async (t) => {
    const s = await run.open(t);
    const key = randomName('kept');
    await s.put(key, Buffer.from('previous version'));
    await rejection(t, () => s.backend.write(key, failingSource(1, new Error('fail')), s.options), 'write()');
    t.is(
      (await s.get(key)).toString(),
      'previous version',
      'a write that failed must not replace or truncate the object already under its key',
    );
    await s.backend.delete(key, s.options);
    await s.finish();
  });

  test(`${run.label} a write aborted by its signal rejects and leaves nothing under the key`, async (t) => {
    const s = await run.open(t);
    const key = randomName('aborted');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('aborted on purpose')), 30);
    const source = endlessSource();
    await rejection(t, () => s.backend.write(key, source, s.with({ signal: controller.signal })), 'an aborted write()');
    source.destroy();
    const read = await rejection(t, () => s.backend.read(key, s.options), 'read() after an aborted write');
    t.true(NotFoundError.is(read), `an aborted write must leave no object; read() gave ${describeError(read)}`);
    await s.finish();
  });
}
