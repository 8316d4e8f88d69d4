import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { LsmStore } from '../../src/store/index.js';

test('a value written keeps its bytes when the caller reuses its buffer, as the log does', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-ownership-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await LsmStore.open(dir);
  const bucket = store.bucket('data');
  const buffer = Buffer.from('first');
  await bucket.put('k', buffer);
  await store.batch([{ type: 'put', bucket: 'data', key: 'b', value: buffer }]);
  buffer.write('later');
  t.is((await bucket.get('k'))?.toString(), 'first');
  t.is((await bucket.get('b'))?.toString(), 'first');
  await store.close();
  const reopened = await LsmStore.open(dir);
  t.is((await reopened.bucket('data').get('k'))?.toString(), 'first', 'the memtable agreed with the log');
  await reopened.close();
});
