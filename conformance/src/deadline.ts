import { AsyncLocalStorage } from 'node:async_hooks';
import { finished, type Readable } from 'node:stream';
import { type BackupBackend, quoted } from '@strata/core';
import type { ConformanceAssertions } from './assertions.js';

/**
 * Deadlines: every check (and every clean-up it registers) ends within a deadline, so a backend call
 * that never returns fails the check that made it instead of hanging the suite. The backends the
 * suite calls are watched, so the failure names the calls that were still in flight.
 */

/** How long one check may take when neither the option nor the variable says, in seconds. */
export const DEFAULT_DEADLINE_SECONDS = 120;

/** The environment variable that sets every check's deadline, in seconds. */
export const DEADLINE_VARIABLE = 'STRATA_CONFORMANCE_DEADLINE';

/** The longest delay a timer takes (about 24.8 days); a longer deadline waits that long. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** In-flight calls a failure lists one by one; more are counted. */
const LISTED_CALLS = 8;

/** `text`, a flag's or a variable's value, as a deadline in seconds; a TypeError naming `source` if it is none. */
export function parseDeadline(text: string, source: string): number {
  const seconds = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new TypeError(`${source} must be a number of seconds above 0, not ${JSON.stringify(text)}`);
  }
  return seconds;
}

/** The deadline of every check: `option`, else `STRATA_CONFORMANCE_DEADLINE` in `env`, else 120 s. */
export function deadlineSeconds(option: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (option !== undefined) return parseDeadline(String(option), 'the deadlineSeconds option');
  const fromEnv = env[DEADLINE_VARIABLE];
  return fromEnv === undefined || fromEnv === '' ? DEFAULT_DEADLINE_SECONDS : parseDeadline(fromEnv, DEADLINE_VARIABLE);
}

/** Seconds as a failure says them: `120 s`, `0.2 s`. */
const secondsText = (seconds: number) => `${Number(seconds.toPrecision(6))} s`;

/** One check's deadline, and what the check is waiting on, to say why it did not finish. */
export class CheckClock {
  readonly seconds: number;
  readonly #passed = new AbortController();
  /** Each call in flight, by description, with how many of it. */
  readonly #calls = new Map<string, number>();
  #waitingFor: string | undefined;

  constructor(seconds: number) {
    this.seconds = seconds;
  }

  /** True once the deadline has passed: what the check does from then on is not reported. */
  get expired(): boolean {
    return this.#passed.signal.aborted;
  }

  /** Aborts when the deadline passes: for the suite's own waits (a journey's requests to its node). */
  get signal(): AbortSignal {
    return this.#passed.signal;
  }

  /** Marks the deadline passed. */
  expire(): void {
    this.#passed.abort(new Error(`the check's deadline (${this.text}) passed`));
  }

  /** How the deadline reads in a message: `120 s`. */
  get text(): string {
    return secondsText(this.seconds);
  }

  /** Notes `call` (`backend.write("key")`) as in flight; the function returned notes its end. */
  begin(call: string): () => void {
    this.#calls.set(call, (this.#calls.get(call) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.#calls.get(call) ?? 1) - 1;
      if (left === 0) this.#calls.delete(call);
      else this.#calls.set(call, left);
    };
  }

  /** Notes what the check is polling for, as the failure should say it if the deadline passes; or nothing. */
  waitingFor(what: string | undefined): void {
    this.#waitingFor = what;
  }

  /** The calls in flight: `backend.write("key")`, with how many when there are several of one. */
  inFlight(): string[] {
    return [...this.#calls].map(([call, count]) => (count > 1 ? `${call} (${count} calls)` : call));
  }

  /** Why the check did not finish in time: one line per call in flight, and what it was polling for. */
  overdue(): string[] {
    const calls = this.inFlight().map((call) => `${call} did not return within ${this.text}`);
    const lines = calls.slice(0, LISTED_CALLS);
    if (calls.length > LISTED_CALLS) lines.push(`and ${calls.length - LISTED_CALLS} more backend calls in flight`);
    if (this.#waitingFor !== undefined) lines.push(this.#waitingFor);
    if (lines.length === 0) lines.push(`did not finish within ${this.text}, with no backend call in flight`);
    return lines;
  }
}

const running = new AsyncLocalStorage<CheckClock>();

/** The clock of the check (or clean-up) this code runs for; undefined outside the suite's checks. */
export function currentClock(): CheckClock | undefined {
  return running.getStore();
}

/**
 * Runs `work` under `clock` until it settles or the deadline passes. Resolves with undefined when it
 * settled in time (rejects as it rejected); once the deadline passes, with why it did not finish (as
 * it stood at the deadline), after which what `work` does is ignored, a late rejection included.
 */
function settlesInTime(clock: CheckClock, work: () => Promise<unknown>): Promise<string[] | undefined> {
  return new Promise<string[] | undefined>((resolve, reject) => {
    // Not unref'd: when every call the check waits on is a promise that never settles, this timer is
    // what keeps the process alive until the check can fail.
    const timer = setTimeout(
      () => {
        resolve(clock.overdue());
        clock.expire();
      },
      Math.min(clock.seconds * 1000, LONGEST_TIMER_MS),
    );
    running.run(clock, work).then(
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!clock.expired) reject(error);
      },
    );
  });
}

/**
 * Runs a clean-up `fn` within `seconds`; past them, rejects naming the calls it waited on, or else
 * those of the check it cleans up after still in flight (a node that stops waits on its own
 * backend's calls).
 */
export async function cleanUpInTime(seconds: number, fn: () => unknown, check?: CheckClock): Promise<void> {
  const clock = new CheckClock(seconds);
  const overdue = await settlesInTime(clock, async () => fn());
  if (overdue === undefined) return;
  const calls = clock.inFlight().length > 0 ? clock.inFlight() : (check?.inFlight() ?? []);
  throw new Error(`did not finish within ${clock.text}${calls.length === 0 ? '' : `, waiting on ${calls.join(', ')}`}`);
}

/**
 * `t` as a check past its deadline sees it: assertions are dropped once the deadline has passed, and
 * each clean-up runs within a deadline of its own (at once, when registered too late).
 */
function guarded(t: ConformanceAssertions, clock: CheckClock): ConformanceAssertions {
  const live =
    <A extends unknown[]>(assert: (...args: A) => unknown) =>
    (...args: A) =>
      clock.expired ? undefined : assert(...args);
  return {
    is: live((actual: unknown, expected: unknown, message?: string) => t.is(actual, expected, message)),
    deepEqual: live((actual: unknown, expected: unknown, message?: string) => t.deepEqual(actual, expected, message)),
    true: live((actual: unknown, message?: string) => t.true(actual, message)),
    fail: live((message?: string) => t.fail(message)),
    teardown(fn) {
      const cleanUp = () => cleanUpInTime(clock.seconds, fn, clock);
      if (clock.expired) cleanUp().catch(() => {});
      else t.teardown(cleanUp);
    },
  };
}

/**
 * Runs one check within `seconds`. Past the deadline the check fails, each reason a failure of its
 * own: `backend.write("<key>") did not return within 120 s` for every watched call still in flight,
 * and what the check was polling for.
 */
export async function withinDeadline(
  t: ConformanceAssertions,
  seconds: number,
  implementation: (t: ConformanceAssertions) => Promise<void>,
): Promise<void> {
  const clock = new CheckClock(seconds);
  const overdue = await settlesInTime(clock, () => implementation(guarded(t, clock)));
  for (const line of overdue ?? []) t.fail(line);
}

/** The backend methods whose calls are watched: every one that may wait on the storage. */
const WATCHED = new Set<PropertyKey>(['checkAccess', 'write', 'read', 'list', 'delete', 'discardPartialWrites']);

/** How a call reads in a failure: `backend.write("a/b")`, `backend.checkAccess()`. */
function described(method: string, args: readonly unknown[]): string {
  return method === 'checkAccess' ? 'backend.checkAccess()' : `backend.${method}(${quoted(args[0])})`;
}

/** `iterable`, each `next()` of it noted on `clock` as `call` while it is pending. */
async function* watchedIteration<T>(iterable: AsyncIterable<T>, call: string, clock: CheckClock): AsyncGenerator<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  let done = false;
  try {
    while (!done) {
      const end = clock.begin(call);
      let next: IteratorResult<T>;
      try {
        next = await iterator.next();
      } catch (error) {
        done = true;
        throw error;
      } finally {
        end();
      }
      done = next.done === true;
      if (!done) yield next.value;
    }
  } finally {
    // Stopped early by the consumer: let the backend's own iteration clean up.
    if (!done) await iterator.return?.();
  }
}

/** `original`, method `method` of a backend, with each call noted on the clock `clockOf()` gives. */
function watchedMethod(
  method: string,
  original: (...args: unknown[]) => unknown,
  clockOf: () => CheckClock | undefined,
): (...args: unknown[]) => unknown {
  return (...args) => {
    const clock = clockOf();
    if (clock === undefined) return original(...args);
    const call = described(method, args);
    if (method === 'list') return watchedIteration(original(...args) as AsyncIterable<unknown>, call, clock);
    const end = clock.begin(call);
    let result: unknown;
    try {
      result = original(...args);
    } catch (error) {
      end();
      throw error;
    }
    if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') {
      end();
      return result;
    }
    return Promise.resolve(result).then(
      (value: unknown) => {
        end();
        // A read's stream is in flight too, until it ends: a stream that stalls hangs its reader.
        if (method === 'read' && value !== null && typeof value === 'object' && 'pipe' in value) {
          finished(value as Readable, clock.begin(`the stream of ${call}`));
        }
        return value;
      },
      (error: unknown) => {
        end();
        throw error;
      },
    );
  };
}

/**
 * `backend` with every call noted on the clock of the check making it (the suite's checks share the
 * backend, and run at once), so that a check past its deadline names what did not return. A view:
 * the module's backend itself is untouched, and its optional methods are there exactly when it has them.
 */
export function watchedBackend(backend: BackupBackend): BackupBackend {
  const methods = new Map<PropertyKey, { original: unknown; watched: unknown }>();
  return new Proxy(backend, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const known = methods.get(property);
      if (known?.original === value) return known.watched;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      const watched = WATCHED.has(property) ? watchedMethod(String(property), bound, currentClock) : bound;
      methods.set(property, { original: value, watched });
      return watched;
    },
  });
}

/**
 * Watches the calls of a backend the suite does not call itself (the one a journey's node loaded) in
 * place, noting each on `clock`: the node keeps its reference to the object, so a view would not see
 * its calls.
 */
export function watchInPlace(backend: BackupBackend, clock: CheckClock): void {
  const methods = backend as unknown as Record<string, unknown>;
  for (const method of WATCHED) {
    const original = methods[method as string];
    if (typeof original !== 'function') continue;
    methods[method as string] = watchedMethod(method as string, original.bind(backend), () => clock);
  }
}
