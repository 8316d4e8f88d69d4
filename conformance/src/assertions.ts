/** What a conformance check is given and declared with: the caller's test function and its assertions. */

/**
 * The assertions the suite uses: a subset of ava's execution context, so the caller's own `test`
 * function is passed in and the suite never imports a runner of its own.
 */
export interface ConformanceAssertions {
  is(actual: unknown, expected: unknown, message?: string): unknown;
  deepEqual(actual: unknown, expected: unknown, message?: string): unknown;
  true(actual: unknown, message?: string): unknown;
  fail(message?: string): unknown;
  teardown(fn: () => unknown): void;
}

/**
 * The caller's test function (ava's `test`, or the CLI's runner). `after.always`, when present,
 * runs once every check is done.
 */
export interface ConformanceTest {
  (title: string, implementation: (t: ConformanceAssertions) => Promise<void>): unknown;
  /** Declares a check that runs alone, before the others (ava's `test.serial`): memory measurements. */
  readonly serial?: (title: string, implementation: (t: ConformanceAssertions) => Promise<void>) => unknown;
  readonly after?: { readonly always: (implementation: () => Promise<void>) => unknown };
}
