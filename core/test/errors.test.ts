import { readFile } from 'node:fs/promises';
import test from 'ava';
import * as errors from '../src/errors.js';

const docs = new URL('../../../docs/errors.md', import.meta.url);

/** The codes listed in the docs/errors.md section whose heading is `## <section>`. */
async function documentedCodes(section: string): Promise<string[]> {
  const text = await readFile(docs, 'utf8');
  const start = text.indexOf(`\n## ${section}\n`);
  const end = text.indexOf('\n## ', start + 1);
  return [...text.slice(start, end === -1 ? undefined : end).matchAll(/^\| `(STRATA_[A-Z_]+)` \|/gm)].map(
    (m) => m[1] as string,
  );
}

const definedCodes = Object.values(errors)
  .filter((value) => typeof value === 'function' && typeof (value as { code?: unknown }).code === 'string')
  .map((value) => (value as { code: string }).code);

test('docs/errors.md lists exactly the codes core defines, each once', async (t) => {
  const documented = await documentedCodes('@strata/core');
  t.deepEqual([...documented].sort(), [...new Set(definedCodes)].sort());
  t.is(new Set(documented).size, documented.length, 'a code is listed twice');
});

test('error codes are unique and shaped STRATA_<AREA>_<WHAT>', (t) => {
  t.is(new Set(definedCodes).size, definedCodes.length);
  for (const code of definedCodes) t.regex(code, /^STRATA_[A-Z]+(_[A-Z]+)+$/);
});

test('errors carry code, status and message, and are recognised by code across copies', (t) => {
  const error = new errors.NotFoundError('bk/chunk-1', '/backups');
  t.is(error.message, 'object "bk/chunk-1" not found in /backups');
  t.is(error.statusCode, 404);
  t.true(errors.NotFoundError.is(error));
  t.true(errors.NotFoundError.is({ code: 'STRATA_BACKEND_NOT_FOUND' }), 'an error from another copy of core');
  t.false(errors.NotFoundError.is(new Error('x')));
  const cause = new Error('low level');
  t.is(new errors.ModuleRegisterError('m', 'r').withCause(cause).cause, cause);
});

/** `error` as it arrives on the other side of a boundary: serialized, sent as JSON, revived. */
const acrossBoundary = (error: unknown) =>
  errors.reviveError(JSON.parse(JSON.stringify(errors.serializeError(error))) as errors.SerializedError);

test('a defined error crosses a boundary by its code and comes back as the same class', (t) => {
  const sent = new errors.NotFoundError('bk/chunk-1', '/backups');
  t.deepEqual(errors.serializeError(sent), {
    code: 'STRATA_BACKEND_NOT_FOUND',
    statusCode: 404,
    message: 'object "bk/chunk-1" not found in /backups',
  });
  const revived = acrossBoundary(sent);
  t.true(revived instanceof errors.NotFoundError);
  t.true(revived instanceof errors.StrataError);
  t.true(errors.NotFoundError.is(revived));
  t.like(revived, { code: sent.code, statusCode: 404, message: sent.message, name: 'StrataError' });
});

test('a CorruptionError keeps its file across a boundary, and is still corruption', (t) => {
  const revived = acrossBoundary(new errors.CorruptionError('segment-7.seg', 'block 3 checksum mismatch'));
  t.true(revived instanceof errors.CorruptionError);
  t.is((revived as InstanceType<typeof errors.CorruptionError>).file, 'segment-7.seg');
  t.is(revived.message, 'corruption in segment-7.seg: block 3 checksum mismatch');
  t.true(errors.isCorruption(revived));
});

test('an error of a code this side does not know comes back as a StrataError with that code', (t) => {
  const revived = errors.reviveError({ code: 'STRATA_FUTURE_THING', statusCode: 418, message: 'from a newer node' });
  t.true(revived instanceof errors.StrataError);
  t.like(revived, { code: 'STRATA_FUTURE_THING', statusCode: 418, message: 'from a newer node' });
});

test('a plain error crosses as its message only, and comes back a plain Error', (t) => {
  const plain = Object.assign(new Error('disk on fire'), { code: 'EIO', errno: -5 });
  t.deepEqual(errors.serializeError(plain), { message: 'disk on fire' });
  const revived = acrossBoundary(plain);
  t.false(revived instanceof errors.StrataError);
  t.is(revived.constructor, Error);
  t.is(revived.message, 'disk on fire');
  t.deepEqual(errors.serializeError('a string thrown'), { message: 'a string thrown' });
});

test('a field named __proto__ from the wire stays a field', (t) => {
  const revived = errors.reviveError(
    JSON.parse('{"code":"STRATA_BACKUP_CORRUPT","statusCode":422,"message":"m","__proto__":{"polluted":true}}'),
  );
  t.true(revived instanceof errors.BackupCorruptError);
  t.is((revived as unknown as { polluted?: unknown }).polluted, undefined);
});

test('every error class core defines is what an error of its code revives as', (t) => {
  for (const value of Object.values(errors)) {
    if (typeof value !== 'function' || typeof (value as { code?: unknown }).code !== 'string') continue;
    const defined = value as unknown as errors.StrataErrorClass<never[]>;
    const revived = errors.reviveError({ code: defined.code, statusCode: defined.statusCode, message: 'm' });
    t.true(revived instanceof defined, `${defined.code} revives as ${revived.constructor.name}`);
  }
});

test('isCorruption recognises a damaged backup as well as a damaged store, anywhere in the cause chain', (t) => {
  const backup = new errors.BackupCorruptError('bk/node1/Class/chunk-1', 'the chunk is 10 bytes, expected 12');
  t.true(errors.isCorruption(backup));
  t.true(errors.isCorruption(new errors.StoreFailedError('/data', 'restore failed').withCause(backup)));
  const wrapped = new Error('restore failed', { cause: new Error('unpacking failed', { cause: backup }) });
  t.true(errors.isCorruption(wrapped));
  t.true(errors.isCorruption(new Error('read failed', { cause: new errors.CorruptionError('f.seg', 'bad') })));
  t.false(errors.isCorruption({ code: 'STRATA_BACKUP_CORRUPT' }), 'not an error at all');
  t.false(errors.isCorruption(new errors.NotFoundError('bk/backup_config.json', '/backups')));
  t.false(errors.isCorruption(new Error('plain', { cause: new Error('plainer') })));
});

test('ConfigValueError words a provider parser refusal from what is wrong, what was expected and what to do', (t) => {
  const message = (problem: errors.ConfigValueProblem) => new errors.ConfigValueError(problem).message;
  t.is(message({ expected: 'a part size from 5MiB to 1GiB' }), 'expected a part size from 5MiB to 1GiB');
  t.is(
    message({ problem: 'the scheme ftp:// is not supported', fix: 'use http:// or https://' }),
    'the scheme ftp:// is not supported; use http:// or https://',
  );
  t.is(message({ problem: 'must not contain credentials' }), 'must not contain credentials');
  t.is(message({ fix: 'use http:// or https://' }), 'use http:// or https://');
  t.is(
    message({ problem: 'the value is too long', expected: 'at most 8 characters', fix: 'shorten it' }),
    'the value is too long; expected at most 8 characters; shorten it',
  );
  t.is(new errors.ConfigValueError({ expected: 'x' }).code, 'STRATA_CONFIG_INVALID_VALUE');
  // A module built against an older core passes a string: its message stays whole.
  const legacy = errors.ConfigValueError as unknown as new (problem: string) => Error;
  t.is(new legacy('expected a region').message, 'expected a region');
});
