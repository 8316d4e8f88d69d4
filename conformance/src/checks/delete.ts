import { type ConformanceTest, describeError, randomName, type SuiteRun } from '../harness.js';

export function deleteChecks(test: ConformanceTest, run: SuiteRun): void {
  test(`${run.label} delete(key) removes the object and leaves its siblings`, async (t) => {
    const s = await run.open(t);
    const base = randomName('del');
    await s.put(`${base}/gone`, Buffer.from('gone'));
    await s.put(`${base}/kept`, Buffer.from('kept'));
    await s.backend.delete(`${base}/gone`, s.options);
    t.deepEqual(await s.keys(`${base}/`), [`${base}/kept`], 'after delete(), list() must show only the other object');
    t.is((await s.get(`${base}/kept`)).toString(), 'kept', 'delete() of one key changed another');
    await s.backend.delete(`${base}/kept`, s.options);
    await s.finish();
  });

  test(`${run.label} delete(key) of a missing key succeeds`, async (t) => {
    const s = await run.open(t);
    try {
      await s.backend.delete(randomName('never-written'), s.options);
      await s.backend.delete(`${randomName('no-dir')}/${randomName()}`, s.options);
    } catch (error) {
      t.fail(`delete() of a missing key must resolve, but it rejected with ${describeError(error)}`);
    }
    await s.finish();
  });
}
