import { type ConformanceTest, collect, randomName, streamOf } from '../harness.js';
import { PrefixedBackend } from '../prefixed-backend.js';
import type { Subject } from '../subject.js';

/**
 * For modules that declare `capabilities.external`: two instances of the backend, as two nodes of a
 * cluster would load it, see each other's objects at once.
 */
export function crossInstanceChecks(test: ConformanceTest, subject: Subject): void {
  test('a second instance of the module (another node) reads, lists and deletes what the first wrote', async (t) => {
    const second = await subject.loadAgain();
    t.teardown(() => second.backend.close?.());
    const prefix = `${subject.prefix}/${randomName('cluster')}`;
    const first = new PrefixedBackend(subject.backend, prefix);
    const other = new PrefixedBackend(second.backend, prefix);
    const key = randomName('shared');
    await first.write(key, streamOf(Buffer.from('written by node 1')));
    t.is((await collect(await other.read(key))).toString(), 'written by node 1', 'another instance read other bytes');
    const listed: string[] = [];
    for await (const object of other.list('')) listed.push(object.key);
    t.deepEqual(listed, [key], 'another instance must list the object the first wrote');
    await other.delete(key);
    const left: string[] = [];
    for await (const object of first.list('')) left.push(object.key);
    t.deepEqual(left, [], 'a delete by another instance must be seen by the first');
  });
}
