import { randomBytes } from 'node:crypto';
import { type ConformanceTest, randomName, type SuiteRun } from '../harness.js';

const WRITERS = 16;

export function concurrencyChecks(test: ConformanceTest, run: SuiteRun): void {
  test(`${run.label} concurrent writes to different keys all land intact`, async (t) => {
    const s = await run.open(t);
    const base = randomName('parallel');
    const objects = Array.from({ length: WRITERS }, (_, i) => ({
      key: `${base}/${i}`,
      data: randomBytes(100_000 + i),
    }));
    await Promise.all(objects.map(({ key, data }) => s.put(key, data)));
    for (const { key, data } of objects) {
      t.true((await s.get(key)).equals(data), `"${key}" was corrupted by writes running at the same time`);
    }
    await Promise.all(objects.map(({ key }) => s.backend.delete(key, s.options)));
    await s.finish();
  });

  test(`${run.label} concurrent writes to one key leave exactly one whole version`, async (t) => {
    const s = await run.open(t);
    const key = randomName('contended');
    const versions = Array.from({ length: 8 }, () => randomBytes(300_000));
    await Promise.all(versions.map((data) => s.put(key, data)));
    const final = await s.get(key);
    t.true(
      versions.some((data) => data.equals(final)),
      'after concurrent writes to one key, read() must return one of the written versions whole, never a mix',
    );
    await s.backend.delete(key, s.options);
    await s.finish();
  });
}
