import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BackupBackend, CallOptions } from '@strata/core';

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

/** The caller's test function (ava's `test`). */
export type ConformanceTest = (title: string, implementation: (t: ConformanceAssertions) => Promise<void>) => unknown;

/** A fresh backend for one test, made by the caller's factory. */
export interface BackendFixture {
  /** A backend that is empty: under a random prefix, directory or bucket of its own. */
  readonly backend: BackupBackend;
  /**
   * A value the backend accepts as `scope.path` (an absolute directory for a filesystem backend, a
   * key prefix for object stores). The suite runs a second time with every call under this scope.
   */
  readonly alternatePath: string;
  /** Removes whatever the fixture created. */
  cleanup?(): Promise<void>;
}

/** One run of the suite: raw (configured root) or under the fixture's alternate path. */
export interface SuiteRun {
  /** Prefixed to every test title: `[raw]` or `[scope.path]`. */
  readonly label: string;
  /** Opens a fresh backend for one test, checks that it is empty, and cleans it up after the test. */
  open(t: ConformanceAssertions): Promise<Session>;
}

/** A test's backend and the call options of its run. */
export interface Session {
  readonly backend: BackupBackend;
  readonly options: CallOptions;
  /** Options for a call of this run with an extra signal. */
  with(extra: CallOptions): CallOptions;
  /** Writes `data` under `key` in this run's scope. */
  put(key: string, data: Uint8Array): Promise<number>;
  /** Reads the whole object `key` in this run's scope. */
  get(key: string): Promise<Buffer>;
  /** Every key listed under `prefix` in this run's scope, in the order listed. */
  keys(prefix?: string): Promise<string[]>;
  /** Ends the test: asserts the backend lists nothing, once the test has deleted every key it wrote. */
  finish(): Promise<void>;
}

/** A random key segment, so concurrent and repeated runs never collide. */
export function randomName(label = 'key'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

/** Reads a stream to its end. */
export async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A stream of `data` in chunks of at most `chunkSize` bytes. */
export function streamOf(data: Uint8Array, chunkSize = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < data.length; offset += chunkSize) yield data.subarray(offset, offset + chunkSize);
    })(),
  );
}

/** How an error looks in a failure message: its code and message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.constructor.name}${code === undefined ? '' : ` [${String(code)}]`}: ${error.message}`;
}

/** Runs `action` and returns what it rejected with, or fails the test if it resolved. */
export async function rejection(
  t: ConformanceAssertions,
  action: () => Promise<unknown>,
  what: string,
): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  t.fail(`${what} resolved, but it must reject`);
  return undefined;
}

function session(t: ConformanceAssertions, backend: BackupBackend, options: CallOptions): Session {
  const keys = async (prefix = '') => {
    const found: string[] = [];
    for await (const object of backend.list(prefix, options)) found.push(object.key);
    return found;
  };
  return {
    backend,
    options,
    with: (extra) => ({ ...options, ...extra }),
    put: (key, data) => backend.write(key, streamOf(data), options),
    get: async (key) => collect(await backend.read(key, options)),
    keys,
    async finish() {
      t.deepEqual(
        await keys(),
        [],
        'the backend still lists objects after the test deleted every key it wrote: delete() must remove objects',
      );
    },
  };
}

/** The two runs of the suite over one factory: raw, and under the fixture's alternate path. */
export function suiteRuns(createBackend: () => Promise<BackendFixture>): SuiteRun[] {
  const run = (label: string, scoped: boolean): SuiteRun => ({
    label,
    async open(t) {
      const fixture = await createBackend();
      const options: CallOptions = scoped ? { scope: { path: fixture.alternatePath } } : {};
      const opened = session(t, fixture.backend, options);
      t.teardown(async () => {
        await fixture.backend.close?.();
        await fixture.cleanup?.();
      });
      t.deepEqual(await opened.keys(), [], 'a fresh backend from the factory must list no objects');
      return opened;
    },
  });
  return [run('[raw]', false), run('[scope.path]', true)];
}
