import { NotFoundError } from '@strata/core';
import {
  type BackendFixture,
  type ConformanceTest,
  collect,
  describeError,
  randomName,
  rejection,
  streamOf,
} from '../harness.js';

/** Objects under a `scope.path` override and under the configured root never see each other. */
export function isolationChecks(test: ConformanceTest, createBackend: () => Promise<BackendFixture>): void {
  test('objects written under scope.path and under the configured root are invisible to each other', async (t) => {
    const { backend, alternatePath, cleanup } = await createBackend();
    t.teardown(async () => {
      await backend.close?.();
      await cleanup?.();
    });
    const scoped = { scope: { path: alternatePath } };
    const rawKey = randomName('raw');
    const scopedKey = randomName('scoped');
    await backend.write(rawKey, streamOf(Buffer.from('raw')));
    await backend.write(scopedKey, streamOf(Buffer.from('scoped')), scoped);

    const list = async (options = {}) => {
      const keys: string[] = [];
      for await (const object of backend.list('', options)) keys.push(object.key);
      return keys;
    };
    t.deepEqual(await list(), [rawKey], 'list() of the configured root must not show objects written under scope.path');
    t.deepEqual(await list(scoped), [scopedKey], 'list() under scope.path must show only objects written there');
    t.is((await collect(await backend.read(scopedKey, scoped))).toString(), 'scoped');
    const leaked = await rejection(t, () => backend.read(scopedKey), 'read() of a scoped key without the scope');
    t.true(NotFoundError.is(leaked), `a key written under scope.path leaked to the root: ${describeError(leaked)}`);

    await backend.delete(rawKey);
    await backend.delete(scopedKey, scoped);
    t.deepEqual([...(await list()), ...(await list(scoped))], [], 'delete() must remove objects in both scopes');
  });
}
