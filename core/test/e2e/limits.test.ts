import test from 'ava';
import { seed, startBackupNode } from '../helpers/backups.js';

/** The request limits of docs/api.md, each tried at the limit and just over it. */

test('error bodies quote a bounded excerpt of what the request sent', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 1);
  const id = 'X'.repeat(5_000_000);
  const badId = await node.request('POST', '/v1/backups/filesystem', { id });
  t.is(badId.status, 422);
  t.deepEqual(badId.body, {
    error: [
      {
        message: `invalid backup id: '${'X'.repeat(256)}...(4999744 more characters)' allowed characters are lowercase, 0-9, _, -`,
      },
    ],
  });
  const className = `Nope${'x'.repeat(1_000_000)}`;
  const unknown = await node.request('POST', '/v1/objects', { class: className });
  t.is(
    unknown.body.error[0].message,
    `class "${className.slice(0, 256)}...(999748 more characters)" not found in schema`,
  );
  const value = 'v'.repeat(1_000_000);
  const batch = await node.request('POST', '/v1/batch/objects', {
    objects: [{ class: 'Article', properties: { rank: value } }],
  });
  t.regex(
    batch.body[0].result.errors.error[0].message,
    /^invalid int property 'rank' on class 'Article': requires an integer, the given value is 'v{256}\.\.\.\(999744 more characters\)'$/,
  );
  const path = `/v1/${'p'.repeat(10_000)}`;
  const missing = await node.request('GET', path);
  t.deepEqual(missing.body, {
    code: 404,
    message: `path ${path.slice(0, 256)}...(9748 more characters) was not found`,
  });
});
