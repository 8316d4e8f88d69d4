import { type ConformanceTest, randomName, type SuiteRun } from '../harness.js';

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** More objects than one page of S3 (1000) or GCS (1000) listing holds. */
const PAGINATED_COUNT = 1005;
const WRITE_CONCURRENCY = 16;

async function inParallel<T>(items: readonly T[], limit: number, action: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await action(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

export function listingChecks(test: ConformanceTest, run: SuiteRun): void {
  test(`${run.label} list(prefix) returns every matching key once, in byte order, with its size`, async (t) => {
    const s = await run.open(t);
    const base = randomName('list');
    // "p.x" sorts before "p/..." in byte order ('.' < '/'), which a naive directory walk gets wrong.
    const relative = ['p/a', 'p/b/c', 'p/b/d', 'p/ba', 'p.x', 'q/deep/er/key', 'pp'];
    const sizes = new Map(relative.map((key, i) => [`${base}/${key}`, i * 10 + 1]));
    for (const [key, size] of sizes) await s.put(key, Buffer.alloc(size, 1));

    const listed = [];
    for await (const object of s.backend.list(`${base}/`, s.options)) listed.push(object);
    t.deepEqual(
      listed.map((object) => object.key),
      [...sizes.keys()].sort(byteOrder),
      'list() must return every key under the prefix exactly once, in ascending byte order',
    );
    for (const object of listed) {
      t.is(object.size, sizes.get(object.key), `list() reported size ${object.size} for "${object.key}"`);
    }
    const cases: ReadonlyArray<[string, string[]]> = [
      ['p/', ['p/a', 'p/b/c', 'p/b/d', 'p/ba']],
      ['p/b', ['p/b/c', 'p/b/d', 'p/ba']],
      ['p/b/', ['p/b/c', 'p/b/d']],
      ['q/deep/er/key', ['q/deep/er/key']],
      ['nothing-here', []],
    ];
    for (const [prefix, expected] of cases) {
      t.deepEqual(
        await s.keys(`${base}/${prefix}`),
        expected.map((key) => `${base}/${key}`),
        `list("${base}/${prefix}") must treat the prefix as a plain string prefix, not only whole path segments`,
      );
    }
    for (const key of sizes.keys()) await s.backend.delete(key, s.options);
    await s.finish();
  });

  test(`${run.label} list() is complete across pagination boundaries (${PAGINATED_COUNT} objects)`, async (t) => {
    const s = await run.open(t);
    const base = randomName('many');
    const keys = Array.from({ length: PAGINATED_COUNT }, (_, i) => `${base}/${String(i).padStart(5, '0')}`);
    await inParallel(keys, WRITE_CONCURRENCY, (key) => s.put(key, Buffer.from(key)));
    const listed = await s.keys(`${base}/`);
    t.is(
      listed.length,
      keys.length,
      `list() returned ${listed.length} of ${keys.length} objects: pages were lost or repeated`,
    );
    t.deepEqual(listed, keys, 'list() must return every object exactly once, in byte order, across pages');
    await inParallel(keys, WRITE_CONCURRENCY, (key) => s.backend.delete(key, s.options));
    await s.finish();
  });
}
