import { accessCheckChecks } from './checks/access-check.js';
import { clusterJourneyChecks } from './checks/cluster-journey.js';
import { concurrencyChecks } from './checks/concurrency.js';
import { crossInstanceChecks } from './checks/cross-instance.js';
import { deleteChecks } from './checks/delete.js';
import { failedWriteChecks } from './checks/failed-writes.js';
import { homePathChecks } from './checks/home-path.js';
import { invalidKeyChecks } from './checks/invalid-keys.js';
import { isolationChecks } from './checks/isolation.js';
import { journeyChecks } from './checks/journey.js';
import { largeObjectChecks } from './checks/large-objects.js';
import { listingChecks } from './checks/listing.js';
import { notFoundChecks } from './checks/not-found.js';
import { partialWriteChecks } from './checks/partial-writes.js';
import { roundTripChecks } from './checks/round-trip.js';
import { secretChecks } from './checks/secrets.js';
import { cleanUpInTime, deadlineSeconds, withinDeadline } from './deadline.js';
import { type ConformanceTest, suiteRuns } from './harness.js';
import { type ConformanceOptions, loadSubject } from './subject.js';

/** A group of checks the suite did not register, and why. */
export interface SkippedChecks {
  /** What the checks cover. */
  readonly checks: string;
  /** What gated them: a capability the module does not declare, an option, or an optional method. */
  readonly reason: string;
  /**
   * True when the contract lets a module leave the checks' subject out by design (an optional method
   * its storage has no use for): `strata-conformance --strict` does not count them.
   */
  readonly optional?: boolean;
}

/** What {@link describeBackendConformance} registered. */
export interface SuitePlan {
  /** The module's name, e.g. `backup-filesystem`. */
  readonly module: string;
  /** The title of every check registered. */
  readonly checks: readonly string[];
  /** Checks left out, with the capability or option that gated them. */
  readonly skipped: readonly SkippedChecks[];
}

/**
 * Loads `options.module` as `ENABLE_MODULES` would, with its configuration from `options.env`, and
 * registers every check the module's declared capabilities call for with the caller's `test`
 * function. Each check works under a random prefix (or `scope.path`) of its own and removes what it
 * wrote, so a real bucket or directory holding other data can be used. Each check, and each clean-up,
 * has a deadline (`options.deadlineSeconds`, else `STRATA_CONFORMANCE_DEADLINE`, else 120 s): past it
 * the check fails, naming every backend call still in flight, instead of hanging the suite.
 *
 * ```ts
 * import test from 'ava';
 * import { describeBackendConformance } from '@strata/conformance';
 *
 * await describeBackendConformance(test, { module: 'backup-s3', env: { BACKUP_S3_BUCKET: 'test' } });
 * ```
 *
 * A module that declares `capabilities.external` also gets a journey through a cluster of three
 * nodes in this process, when `options.cluster` gives it a fresh etcd to join (skipped otherwise).
 *
 * @throws core's `ModulesInvalidError` when the module cannot load (not found, bad configuration);
 *   a TypeError for a deadline that is not a number of seconds above 0, or a `cluster` without
 *   etcd endpoints.
 */
export async function describeBackendConformance(
  test: ConformanceTest,
  options: ConformanceOptions,
): Promise<SuitePlan> {
  const seconds = deadlineSeconds(options.deadlineSeconds);
  if (options.cluster !== undefined && options.cluster.etcdEndpoints.length === 0) {
    throw new TypeError('the cluster option needs at least one etcd endpoint (etcdEndpoints)');
  }
  const subject = await loadSubject(options);
  const checks: string[] = [];
  const skipped: SkippedChecks[] = [];
  const listed =
    (declare: NonNullable<ConformanceTest['serial']>) =>
    (title: string, implementation: Parameters<ConformanceTest>[1]) => {
      checks.push(title);
      return declare(title, (t) => withinDeadline(t, seconds, implementation));
    };
  const register: ConformanceTest = Object.assign(listed(test), {
    ...(test.serial === undefined ? {} : { serial: listed(test.serial) }),
    ...(test.after === undefined ? {} : { after: test.after }),
  });

  const discards = typeof subject.backend.discardPartialWrites === 'function';
  for (const run of suiteRuns(subject)) {
    notFoundChecks(register, run);
    roundTripChecks(register, run);
    largeObjectChecks(register, run, options.inMemory !== true);
    listingChecks(register, run);
    deleteChecks(register, run);
    failedWriteChecks(register, run);
    concurrencyChecks(register, run);
    invalidKeyChecks(register, run);
    accessCheckChecks(register, run);
    homePathChecks(register, run);
    if (discards) partialWriteChecks(register, run);
  }
  secretChecks(register, subject);
  if (options.inMemory === true) {
    skipped.push({ checks: 'bounded memory of large writes and reads', reason: 'option inMemory' });
  }
  if (!discards) {
    // Storage without leftovers to collect has no use for the method: not a gap, so not strict.
    skipped.push({
      checks: 'discarding what interrupted writes left',
      reason: 'method discardPartialWrites',
      optional: true,
    });
  }
  if (subject.capabilities.pathScope === undefined) {
    skipped.push({ checks: 'every check under scope.path, and isolation', reason: 'capability pathScope' });
  } else {
    isolationChecks(register, subject);
  }
  if (subject.capabilities.external) crossInstanceChecks(register, subject);
  else skipped.push({ checks: "a second instance sees the first one's objects", reason: 'capability external' });
  if (options.journey === false)
    skipped.push({ checks: 'the journey through a Strata node', reason: 'option journey' });
  else journeyChecks(register, subject);
  const clusterJourney = 'the journey through a cluster of three Strata nodes';
  if (!subject.capabilities.external) skipped.push({ checks: clusterJourney, reason: 'capability external' });
  else if (options.journey === false) skipped.push({ checks: clusterJourney, reason: 'option journey' });
  // No etcd of the caller's: the suite does not start one itself (it would need etcd installed).
  else if (options.cluster === undefined) skipped.push({ checks: clusterJourney, reason: 'option cluster' });
  else clusterJourneyChecks(register, subject, options.cluster);

  test.after?.always(() => cleanUpInTime(seconds, () => subject.backend.close?.()));
  return { module: subject.name, checks, skipped };
}
