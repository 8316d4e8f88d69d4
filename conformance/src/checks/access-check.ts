import { type ConformanceTest, describeError, type SuiteRun } from '../harness.js';

export function accessCheckChecks(test: ConformanceTest, run: SuiteRun): void {
  test(`${run.label} checkAccess() resolves on a usable backend and leaves nothing behind`, async (t) => {
    const s = await run.open(t);
    try {
      await s.backend.checkAccess(s.options);
    } catch (error) {
      t.fail(
        `checkAccess() must resolve on a backend the fixture says is usable; it rejected with ${describeError(error)}`,
      );
    }
    t.deepEqual(await s.keys(), [], 'checkAccess() must delete the probe object it wrote');
    await s.finish();
  });
}
