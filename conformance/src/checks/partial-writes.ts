import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { type CallOptions, InvalidKeyError, NotFoundError } from '@strata/core';
import {
  type ConformanceAssertions,
  type ConformanceTest,
  describeError,
  randomName,
  rejection,
  type Session,
  type SuiteRun,
} from '../harness.js';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
/**
 * What a write in progress has taken from its source when it stalls: more than two of backup-s3's
 * default 6 MiB parts or backup-gcs's 8 MiB chunks, so a backend that stores a write piece by piece
 * has stored some of it by then.
 */
const TAKEN_BEFORE_STALL = 16 * MiB + CHUNK;

/** A write in progress whose source has given {@link TAKEN_BEFORE_STALL} bytes and waits. */
interface StalledWrite {
  /** Ends the source, so the write goes on to finish (or fail). */
  end(): void;
  /** Aborts the write's signal. */
  abort(reason: Error): void;
  /** What `write()` settled with. */
  readonly settled: Promise<{ ok: true; bytes: number } | { ok: false; error: unknown }>;
  /** SHA-256 of the bytes the source gave. */
  digest(): string;
}

/**
 * Starts writing `key` from a source that gives {@link TAKEN_BEFORE_STALL} bytes, then nothing until
 * it is ended or the write aborted; resolves once the backend has taken every byte. A stream, not a
 * generator: a generator waiting forever could not be destroyed by the write's abort.
 */
async function stalledWrite(s: Session, key: string): Promise<StalledWrite> {
  const hash = createHash('sha256');
  const controller = new AbortController();
  let given = 0;
  let taken = () => {};
  const allTaken = new Promise<void>((resolve) => {
    taken = resolve;
  });
  const source = new Readable({
    read() {
      // Called for more only once the backend has taken (nearly) all that was given.
      if (given >= TAKEN_BEFORE_STALL) {
        taken();
        return;
      }
      const chunk = Buffer.alloc(Math.min(CHUNK, TAKEN_BEFORE_STALL - given), given / CHUNK);
      hash.update(chunk);
      given += chunk.length;
      this.push(chunk);
    },
  });
  const settled = s.backend.write(key, source, s.with({ signal: controller.signal })).then(
    (bytes) => ({ ok: true as const, bytes }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const early = await Promise.race([allTaken.then(() => undefined), settled]);
  if (early !== undefined) throw new Error(`write() of "${key}" settled before its source ended: ${inspect(early)}`);
  return {
    end: () => source.push(null),
    abort: (reason) => controller.abort(reason),
    settled,
    digest: () => hash.copy().digest('hex'),
  };
}

/** Whether `key` still holds `expected`, in words when it does not. */
async function problemWith(s: Session, key: string, expected: Uint8Array): Promise<string | undefined> {
  let read: Buffer;
  try {
    read = await s.get(key);
  } catch (error) {
    return `removed it (read() gave ${describeError(error)})`;
  }
  return read.equals(expected) ? undefined : `changed it (${read.length} bytes of ${expected.length} read back)`;
}

function inspect(outcome: { ok: true; bytes: number } | { ok: false; error: unknown }): string {
  return outcome.ok ? `resolved with ${outcome.bytes}` : `rejected with ${describeError(outcome.error)}`;
}

/** The backend's discardPartialWrites; checks are registered only for backends that have it. */
function discard(s: Session, prefix: string, extra: CallOptions = {}): Promise<number> {
  const method = s.backend.discardPartialWrites;
  if (method === undefined) throw new Error('discardPartialWrites() is missing');
  return method.call(s.backend, prefix, s.with(extra));
}

function assertCount(t: ConformanceAssertions, count: unknown, what: string): void {
  t.true(
    typeof count === 'number' && Number.isInteger(count) && count >= 0,
    `discardPartialWrites() must resolve with how many writes' leftovers it removed, a whole number; ${what} ` +
      `it resolved with ${String(count)}`,
  );
}

/** `key`, which a write left or finished, reads back as `digest` (whole) or is absent. */
async function wholeOrAbsent(
  t: ConformanceAssertions,
  s: Session,
  key: string,
  outcome: { ok: true; bytes: number } | { ok: false; error: unknown },
  digest: string,
): Promise<void> {
  if (outcome.ok) {
    const read = await s.get(key);
    t.is(
      createHash('sha256').update(read).digest('hex'),
      digest,
      `a write whose leftovers were discarded resolved, but "${key}" reads back ${read.length} bytes of ` +
        `${TAKEN_BEFORE_STALL}: it must then fail, or store the whole object`,
    );
    return;
  }
  const read = await rejection(t, () => s.backend.read(key, s.options), `read("${key}") after its write failed`);
  t.true(
    NotFoundError.is(read),
    `a write that failed after discardPartialWrites() must leave nothing under its key; read() gave ${describeError(read)}`,
  );
}

/** Checks for backends with `discardPartialWrites`: what it removes, and what it must never touch. */
export function partialWriteChecks(test: ConformanceTest, run: SuiteRun): void {
  test(`${run.label} discardPartialWrites(prefix) removes an unfinished write's leftovers and keeps finished objects`, async (t) => {
    const s = await run.open(t);
    const base = randomName('partial');
    const finished = randomBytes(200_000);
    await s.put(`${base}/finished`, finished);
    const unfinished = `${base}/node/unfinished`;
    const write = await stalledWrite(s, unfinished);
    const removed = await discard(s, `${base}/`);
    assertCount(t, removed, 'while a write was in progress under the prefix,');
    t.true(
      typeof removed === 'number' && removed >= 1,
      `discardPartialWrites("${base}/") removed nothing while a write that had taken ${TAKEN_BEFORE_STALL} bytes ` +
        'was in progress under it: a backend that implements it keeps leftovers by then (a temporary file, a ' +
        'multipart upload with parts stored) and must remove them (if yours stores nothing before more bytes, ' +
        'configure smaller parts for the suite)',
    );
    const damage = await problemWith(s, `${base}/finished`, finished);
    t.true(
      damage === undefined,
      `discardPartialWrites("${base}/") must never touch a finished object, but it ${damage}`,
    );
    write.abort(new Error('aborted on purpose'));
    const outcome = await write.settled;
    t.true(!outcome.ok, `the aborted write must reject; it ${inspect(outcome)}`);
    const read = await rejection(t, () => s.backend.read(unfinished, s.options), 'read() of the aborted write');
    t.true(NotFoundError.is(read), `an aborted write must leave nothing; read() gave ${describeError(read)}`);
    t.deepEqual(await s.keys(`${base}/`), [`${base}/finished`], 'list() must show the finished object only');
    t.is(await discard(s, `${base}/`), 0, 'a second discardPartialWrites() must find nothing left to remove');
    await s.backend.delete(`${base}/finished`, s.options);
    await s.finish();
  });

  test(`${run.label} a write whose leftovers discardPartialWrites() removed fails or completes whole, never half`, async (t) => {
    const s = await run.open(t);
    const base = randomName('half');
    const key = `${base}/object`;
    const write = await stalledWrite(s, key);
    assertCount(t, await discard(s, `${base}/`), 'while a write was in progress under the prefix,');
    write.end();
    const outcome = await write.settled;
    await wholeOrAbsent(t, s, key, outcome, write.digest());
    t.is(await discard(s, `${base}/`), 0, 'once the write has ended, discardPartialWrites() must find nothing');
    if (outcome.ok) await s.backend.delete(key, s.options);
    await s.finish();
  });

  test(`${run.label} discardPartialWrites(prefix) touches nothing outside the prefix, finished or in progress`, async (t) => {
    const s = await run.open(t);
    const base = randomName('outside');
    const target = `${base}/target/`;
    t.is(await discard(s, target), 0, 'discardPartialWrites() of a prefix with nothing in it must resolve with 0');
    // Beside the prefix (same string start, and the directory above it) and in another branch.
    const finished = [`${base}/target-sibling`, `${base}/other/finished`];
    for (const key of finished) await s.put(key, Buffer.from(key));
    const inProgress = [`${base}/target-unfinished`, `${base}/other/unfinished`];
    const writes = [];
    for (const key of inProgress) writes.push(await stalledWrite(s, key));
    t.is(await discard(s, target), 0, `discardPartialWrites("${target}") found something while nothing was under it`);
    for (const write of writes) write.end();
    for (const [i, write] of writes.entries()) {
      const outcome = await write.settled;
      const key = inProgress[i] as string;
      t.true(outcome.ok, `a write outside the prefix must be left alone, but it ${inspect(outcome)}`);
      if (!outcome.ok) continue;
      const read = await s.get(key);
      t.is(createHash('sha256').update(read).digest('hex'), write.digest(), `"${key}" was damaged`);
    }
    for (const key of finished) {
      const damage = await problemWith(s, key, Buffer.from(key));
      t.true(damage === undefined, `discardPartialWrites("${target}") must leave "${key}" alone, but it ${damage}`);
    }
    for (const key of [...finished, ...inProgress]) await s.backend.delete(key, s.options);
    await s.finish();
  });

  test(`${run.label} discardPartialWrites() refuses prefixes that are not "" or end with "/", and honours its signal`, async (t) => {
    const s = await run.open(t);
    const base = randomName('refused');
    for (const prefix of [base, `${base}/../`, `${base}//`, `${base}/nul\0byte/`]) {
      const error = await rejection(t, () => discard(s, prefix), `discardPartialWrites(${JSON.stringify(prefix)})`);
      t.true(
        InvalidKeyError.is(error),
        `discardPartialWrites(${JSON.stringify(prefix)}) must reject with InvalidKeyError (a prefix is "" or ends ` +
          `with "/", and what precedes that "/" passes assertSafeKey); got ${describeError(error)}`,
      );
    }
    const controller = new AbortController();
    const reason = new Error('aborted on purpose');
    controller.abort(reason);
    const aborted = await rejection(
      t,
      () => discard(s, `${base}/`, { signal: controller.signal }),
      'discardPartialWrites() with an aborted signal',
    );
    t.is(aborted, reason, `an aborted discardPartialWrites() must reject with the signal's reason`);
    await s.finish();
  });
}
