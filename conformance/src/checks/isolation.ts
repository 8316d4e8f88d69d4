import { NotFoundError } from '@strata/core';
import { type ConformanceTest, collect, describeError, randomName, rejection, streamOf } from '../harness.js';
import { PrefixedBackend } from '../prefixed-backend.js';
import type { Subject } from '../subject.js';

/** Objects under a `scope.path` override and under the configured root never see each other. */
export function isolationChecks(test: ConformanceTest, subject: Subject): void {
  test('objects written under scope.path and under the configured root are invisible to each other', async (t) => {
    const rawBackend = new PrefixedBackend(subject.backend, `${subject.prefix}/${randomName('isolation')}`);
    const scoped = { scope: { path: subject.scopePath('isolation') } };
    const key = randomName('same-key');
    await rawBackend.write(key, streamOf(Buffer.from('raw')));
    await subject.backend.write(key, streamOf(Buffer.from('scoped')), scoped);

    const list = async (backend: typeof subject.backend, options = {}) => {
      const keys: string[] = [];
      for await (const object of backend.list('', options)) keys.push(object.key);
      return keys;
    };
    t.deepEqual(
      await list(subject.backend, scoped),
      [key],
      'list() under scope.path must show only objects written there',
    );
    t.is((await collect(await rawBackend.read(key))).toString(), 'raw', 'the scoped write replaced the root object');
    t.is((await collect(await subject.backend.read(key, scoped))).toString(), 'scoped');
    await subject.backend.delete(key, scoped);
    t.is(
      (await collect(await rawBackend.read(key))).toString(),
      'raw',
      'delete() under scope.path removed the root object',
    );
    const gone = await rejection(t, () => subject.backend.read(key, scoped), 'read() of a deleted scoped key');
    t.true(NotFoundError.is(gone), `the root object is visible under scope.path: ${describeError(gone)}`);
    await rawBackend.delete(key);
    t.deepEqual(
      [...(await list(rawBackend)), ...(await list(subject.backend, scoped))],
      [],
      'delete() must remove objects in both scopes',
    );
  });
}
