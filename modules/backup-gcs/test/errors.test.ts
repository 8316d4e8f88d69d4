import { definedErrorCodes, documentedErrorCodes } from '@strata/testing';
import test from 'ava';
import * as errors from '../src/errors.js';

test('docs/errors.md lists exactly the codes backup-gcs defines', async (t) => {
  const documented = await documentedErrorCodes('@strata/backup-gcs');
  t.deepEqual([...documented].sort(), definedErrorCodes(errors).sort());
});
