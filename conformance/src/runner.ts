import { inspect, isDeepStrictEqual } from 'node:util';
import type { ConformanceAssertions, ConformanceTest } from './harness.js';
import type { ConformanceOptions } from './subject.js';
import { describeBackendConformance, type SkippedChecks } from './suite.js';

/** How one check went. */
export interface CheckResult {
  readonly title: string;
  readonly passed: boolean;
  /** What failed, in the check's own words. */
  readonly failures: readonly string[];
  readonly durationMs: number;
}

/** The outcome of {@link runConformance}. */
export interface ConformanceReport {
  readonly module: string;
  readonly results: readonly CheckResult[];
  readonly skipped: readonly SkippedChecks[];
}

/** Options of {@link runConformance}: what to test, and which checks. */
export interface RunOptions extends ConformanceOptions {
  /** Runs only the checks whose title includes this text. */
  readonly grep?: string;
  /** Checks run at once (default 4). */
  readonly concurrency?: number;
  /** Called as each check ends, for progress output. */
  readonly onResult?: (result: CheckResult) => void;
}

class Assertions implements ConformanceAssertions {
  readonly failures: string[] = [];
  readonly teardowns: Array<() => unknown> = [];

  is(actual: unknown, expected: unknown, message = 'values differ'): void {
    if (!Object.is(actual, expected))
      this.failures.push(`${message}\n    got ${inspect(actual)}, expected ${inspect(expected)}`);
  }

  deepEqual(actual: unknown, expected: unknown, message = 'values differ'): void {
    if (!isDeepStrictEqual(actual, expected)) {
      this.failures.push(
        `${message}\n    got ${inspect(actual, { depth: 4 })}\n    expected ${inspect(expected, { depth: 4 })}`,
      );
    }
  }

  true(actual: unknown, message = 'expected true'): void {
    if (actual !== true) this.failures.push(message);
  }

  fail(message = 'failed'): void {
    this.failures.push(message);
  }

  teardown(fn: () => unknown): void {
    this.teardowns.push(fn);
  }
}

async function runCheck(
  title: string,
  implementation: (t: ConformanceAssertions) => Promise<void>,
): Promise<CheckResult> {
  const t = new Assertions();
  const started = performance.now();
  try {
    await implementation(t);
  } catch (error) {
    t.fail(`threw ${error instanceof Error ? (error.stack ?? error.message) : inspect(error)}`);
  }
  for (const teardown of t.teardowns.reverse()) {
    try {
      await teardown();
    } catch (error) {
      t.fail(`cleaning up failed: ${error instanceof Error ? error.message : inspect(error)}`);
    }
  }
  return { title, passed: t.failures.length === 0, failures: t.failures, durationMs: performance.now() - started };
}

/**
 * Runs the suite without a test framework: what `strata-conformance` does. Checks run a few at a
 * time; the report lists each one's failures and the checks left out.
 */
export async function runConformance(options: RunOptions): Promise<ConformanceReport> {
  type Check = { title: string; implementation: (t: ConformanceAssertions) => Promise<void> };
  const serial: Check[] = [];
  const registered: Check[] = [];
  const after: Array<() => Promise<void>> = [];
  const into = (list: Check[]) => (title: string, implementation: Check['implementation']) => {
    if (options.grep === undefined || title.includes(options.grep)) list.push({ title, implementation });
  };
  const collect: ConformanceTest = Object.assign(into(registered), {
    serial: into(serial),
    after: { always: (implementation: () => Promise<void>) => after.push(implementation) },
  });
  const plan = await describeBackendConformance(collect, options);
  const results: CheckResult[] = [];
  const record = (result: CheckResult) => {
    results.push(result);
    options.onResult?.(result);
  };
  let next = 0;
  const worker = async () => {
    for (let check = registered[next++]; check !== undefined; check = registered[next++]) {
      record(await runCheck(check.title, check.implementation));
    }
  };
  try {
    // As ava does with test.serial: checks that must run alone go first, one at a time.
    for (const check of serial) record(await runCheck(check.title, check.implementation));
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  } finally {
    for (const hook of after) await hook();
  }
  return { module: plan.module, results, skipped: plan.skipped };
}
