import test from 'ava';
import { parseEnableModules } from '../../src/modules/index.js';

const cases: ReadonlyArray<[string | undefined, string[]]> = [
  [undefined, []],
  ['', []],
  ['  ', []],
  [',,', []],
  ['backup-s3', ['backup-s3']],
  [' backup-s3 , backup-gcs ', ['backup-s3', 'backup-gcs']],
  ['backup-s3,,backup-gcs,', ['backup-s3', 'backup-gcs']],
  ['backup-s3,backup-gcs,backup-s3', ['backup-s3', 'backup-gcs']],
  ['@acme/strata-backup-azure,./local/module', ['@acme/strata-backup-azure', './local/module']],
];

for (const [raw, expected] of cases) {
  test(`parseEnableModules(${JSON.stringify(raw)}) is ${JSON.stringify(expected)}`, (t) => {
    t.deepEqual(parseEnableModules(raw), expected);
  });
}
