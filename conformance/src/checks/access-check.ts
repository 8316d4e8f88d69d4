import { type ConformanceTest, describeError, type SuiteRun } from '../harness.js';

export function accessCheckChecks(test: ConformanceTest, run: SuiteRun): void {
  // Alone: it compares the whole root before and after, which other checks' objects would disturb.
  (test.serial ?? test)(
    `${run.label} checkAccess() resolves on a usable backend and leaves nothing behind`,
    async (t) => {
      const s = await run.open(t);
      const before = await s.rootKeys();
      try {
        await s.backend.checkAccess(s.options);
      } catch (error) {
        t.fail(`checkAccess() must resolve on a usable, configured backend; it rejected with ${describeError(error)}`);
      }
      const left = (await s.rootKeys()).filter((key) => !before.includes(key));
      t.deepEqual(left, [], 'checkAccess() must delete the probe object it wrote');
      await s.finish();
    },
  );
}
