import { readFile } from 'node:fs/promises';
import test from 'ava';
import * as errors from '../src/errors.js';

test('docs/errors.md lists exactly the codes backup-filesystem defines', async (t) => {
  const text = await readFile(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('\n## @strata/backup-filesystem\n'));
  const documented = [...section.matchAll(/^\| `(STRATA_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  const defined = Object.values(errors).map((value) => (value as { code: string }).code);
  t.deepEqual(documented.sort(), defined.sort());
});
