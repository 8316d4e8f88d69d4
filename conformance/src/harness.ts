import { Readable } from 'node:stream';
import type { BackupBackend, CallOptions } from '@strata/core';
import type { ConformanceAssertions } from './assertions.js';
import { PrefixedBackend } from './prefixed-backend.js';
import { randomName, type Subject } from './subject.js';

export type { ConformanceAssertions, ConformanceTest } from './assertions.js';
export { randomName } from './subject.js';

/** One run of the contract checks: raw (configured root) or under a `scope.path` override. */
export interface SuiteRun {
  /** Prefixed to every test title: `[raw]` or `[scope.path]`. */
  readonly label: string;
  /** Opens a fresh, empty place for one test. */
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
  /**
   * Keys at the root that calls of this run reach without the suite's key prefix (the configured
   * root, or the `scope.path`), other than the suite's own: where `checkAccess()` puts its probe.
   */
  rootKeys(): Promise<string[]>;
  /** Ends the test: asserts the backend lists nothing, once the test has deleted every key it wrote. */
  finish(): Promise<void>;
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

async function listKeys(backend: BackupBackend, prefix: string, options: CallOptions): Promise<string[]> {
  const found: string[] = [];
  for await (const object of backend.list(prefix, options)) found.push(object.key);
  return found;
}

function session(
  t: ConformanceAssertions,
  backend: BackupBackend,
  options: CallOptions,
  rootKeys: () => Promise<string[]>,
): Session {
  const keys = (prefix = '') => listKeys(backend, prefix, options);
  return {
    backend,
    options,
    with: (extra) => ({ ...options, ...extra }),
    put: (key, data) => backend.write(key, streamOf(data), options),
    get: async (key) => collect(await backend.read(key, options)),
    keys,
    rootKeys,
    async finish() {
      t.deepEqual(
        await keys(),
        [],
        'the backend still lists objects after the test deleted every key it wrote: delete() must remove objects',
      );
    },
  };
}

async function opened(t: ConformanceAssertions, session: Session): Promise<Session> {
  t.deepEqual(await session.keys(), [], 'a fresh prefix (or scope.path) must list no objects');
  return session;
}

/**
 * The runs of the contract checks: raw (each test under a random key prefix of the configured root)
 * and, when the module declares `capabilities.pathScope`, under a fresh `scope.path` per test.
 */
export function suiteRuns(subject: Subject): SuiteRun[] {
  const raw: SuiteRun = {
    label: '[raw]',
    open: (t) => {
      const backend = new PrefixedBackend(subject.backend, `${subject.prefix}/${randomName('check')}`);
      const rootKeys = async () =>
        (await listKeys(subject.backend, '', {})).filter((key) => !key.startsWith(`${subject.prefix}/`));
      return opened(t, session(t, backend, {}, rootKeys));
    },
  };
  const scoped: SuiteRun = {
    label: '[scope.path]',
    open: (t) => {
      const options: CallOptions = { scope: { path: subject.scopePath('check') } };
      return opened(
        t,
        session(t, subject.backend, options, () => listKeys(subject.backend, '', options)),
      );
    },
  };
  return subject.capabilities.pathScope === undefined ? [raw] : [raw, scoped];
}
