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
