/**
 * @strata/conformance: the suite every Strata backup provider passes.
 *
 * ```ts
 * import test from 'ava';
 * import { describeBackendConformance } from '@strata/conformance';
 *
 * describeBackendConformance(test, { createBackend: async () => ({ backend, alternatePath }) });
 * ```
 *
 * The caller passes its own ava `test` function; the suite never imports a runner. Every check runs
 * twice: against the backend's configured root (`[raw]`) and with every call under the fixture's
 * `alternatePath` (`[scope.path]`), plus one check that the two never see each other.
 *
 * @packageDocumentation
 */
import { accessCheckChecks } from './checks/access-check.js';
import { concurrencyChecks } from './checks/concurrency.js';
import { deleteChecks } from './checks/delete.js';
import { failedWriteChecks } from './checks/failed-writes.js';
import { homePathChecks } from './checks/home-path.js';
import { invalidKeyChecks } from './checks/invalid-keys.js';
import { isolationChecks } from './checks/isolation.js';
import { listingChecks } from './checks/listing.js';
import { notFoundChecks } from './checks/not-found.js';
import { roundTripChecks } from './checks/round-trip.js';
import { type BackendFixture, type ConformanceTest, suiteRuns } from './harness.js';

export { accessCheckChecks } from './checks/access-check.js';
export { concurrencyChecks } from './checks/concurrency.js';
export { deleteChecks } from './checks/delete.js';
export { failedWriteChecks } from './checks/failed-writes.js';
export { homePathChecks } from './checks/home-path.js';
export { invalidKeyChecks, unsafeKeys } from './checks/invalid-keys.js';
export { isolationChecks } from './checks/isolation.js';
export { listingChecks } from './checks/listing.js';
export { notFoundChecks } from './checks/not-found.js';
export { roundTripChecks, specialKeys } from './checks/round-trip.js';
export type { BackendFixture, ConformanceAssertions, ConformanceTest, Session, SuiteRun } from './harness.js';
export { collect, streamOf, suiteRuns } from './harness.js';

/** Options of {@link describeBackendConformance}. */
export interface ConformanceOptions {
  /** Makes a fresh, empty backend for one test (under a random prefix, directory or bucket). */
  readonly createBackend: () => Promise<BackendFixture>;
}

/** Registers every contract check, for both runs, with the caller's `test` function. */
export function describeBackendConformance(test: ConformanceTest, options: ConformanceOptions): void {
  for (const run of suiteRuns(options.createBackend)) {
    notFoundChecks(test, run);
    roundTripChecks(test, run);
    listingChecks(test, run);
    deleteChecks(test, run);
    failedWriteChecks(test, run);
    concurrencyChecks(test, run);
    invalidKeyChecks(test, run);
    accessCheckChecks(test, run);
    homePathChecks(test, run);
  }
  isolationChecks(test, options.createBackend);
}
