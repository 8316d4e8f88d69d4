/**
 * @strata/conformance: the suite every Strata backup provider passes, first-party or third-party.
 *
 * ```ts
 * import test from 'ava';
 * import { describeBackendConformance } from '@strata/conformance';
 *
 * await describeBackendConformance(test, { module: 'backup-example', env: { BACKUP_EXAMPLE_BUCKET: 'test' } });
 * ```
 *
 * The caller passes its own ava `test` function; the suite never imports a runner. The module is
 * loaded as `ENABLE_MODULES` loads it, and the checks registered follow the capabilities it
 * declares. `runConformance` and the `strata-conformance` command run the suite without ava.
 *
 * @packageDocumentation
 */
export type { CliOutput } from './cli.js';
export { main } from './cli.js';
export type { ConformanceAssertions, ConformanceTest, Session, SuiteRun } from './harness.js';
export { collect, streamOf } from './harness.js';
export { PrefixedBackend } from './prefixed-backend.js';
export { type CheckResult, type ConformanceReport, type RunOptions, runConformance } from './runner.js';
export type { ClusterOptions, ConformanceOptions } from './subject.js';
export { describeBackendConformance, type SkippedChecks, type SuitePlan } from './suite.js';
