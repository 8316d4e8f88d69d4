import { definedErrorCodes, documentedErrorCodes } from '@strata/testing';
import test from 'ava';
import * as errors from '../src/errors.js';

test('docs/errors.md lists exactly the codes backup-s3 defines', async (t) => {
  const documented = await documentedErrorCodes('@strata/backup-s3');
  t.deepEqual([...documented].sort(), definedErrorCodes(errors).sort());
});
