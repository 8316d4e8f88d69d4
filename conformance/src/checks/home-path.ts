import { type ConformanceTest, randomName, type SuiteRun } from '../harness.js';

export function homePathChecks(test: ConformanceTest, run: SuiteRun): void {
  test(`${run.label} homePath(id) ends with the backup id and is stable`, async (t) => {
    const s = await run.open(t);
    const id = randomName('backup');
    const home = s.backend.homePath(id, s.options.scope);
    t.true(home.endsWith(`/${id}`), `homePath("${id}") must end with "/${id}", got "${home}"`);
    t.is(s.backend.homePath(id, s.options.scope), home, 'homePath() must return the same path for the same id');
    const path = s.options.scope?.path;
    if (path !== undefined) {
      t.true(home.includes(path), `homePath() under scope.path "${path}" must include that path, got "${home}"`);
    }
    await s.finish();
  });
}
