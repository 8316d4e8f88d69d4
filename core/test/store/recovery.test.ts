import test from 'ava';
import { LsmStore, type StoreFs } from '../../src/store/index.js';
import { CrashableFs } from './helpers/crashable-fs.js';

const DIR = '/store';

/** A store with three flushed segments holding keys a, b and c, and the fs it lives on. */
async function threeSegments() {
  const fs = new CrashableFs();
  const store = await LsmStore.open(DIR, { fs: fs as unknown as StoreFs });
  await store.pauseCompaction(); // keep the three segments apart
  for (const key of ['a', 'b', 'c']) {
    await store.bucket('data').put(key, `value of ${key}`);
    await store.flush();
  }
  await store.close();
  return fs;
}

async function keys(fs: CrashableFs): Promise<string[]> {
  const store = await LsmStore.open(DIR, { fs: fs as unknown as StoreFs });
  await store.pauseCompaction();
  const found: string[] = [];
  for await (const entry of store.bucket('data').scan()) found.push(`${entry.key}=${entry.value}`);
  await store.close();
  return found;
}

test('graceful close flushes: the directory holds segments only', async (t) => {
  const fs = await threeSegments();
  t.deepEqual(fs.list(DIR), [
    'segment-00000001-00000001.db',
    'segment-00000002-00000002.db',
    'segment-00000003-00000003.db',
  ]);
});

test('a compaction input left by a crash (covered by the output range) is deleted on open', async (t) => {
  const fs = await threeSegments();
  const store = await LsmStore.open(DIR, { fs: fs as unknown as StoreFs });
  await store.compact();
  await store.close();
  t.deepEqual(fs.list(DIR), ['segment-00000001-00000003.db']);
  // Put back an input as if the crash came between the output's rename and the inputs' deletion.
  const other = await threeSegments();
  const stale = other.contents(`${DIR}/segment-00000002-00000002.db`);
  const fd = fs.openSync(`${DIR}/segment-00000002-00000002.db`, 'w');
  fs.writeSync(fd, stale, 0, stale.length, 0);
  fs.closeSync(fd);
  t.deepEqual(await keys(fs), ['a=value of a', 'b=value of b', 'c=value of c']);
  t.deepEqual(fs.list(DIR), ['segment-00000001-00000003.db']);
});

test('temporary files left by a crash are deleted on open', async (t) => {
  const fs = await threeSegments();
  const fd = fs.openSync(`${DIR}/segment-00000004-00000004.db.tmp`, 'w');
  fs.writeSync(fd, Buffer.from('half a segment'), 0, 14, 0);
  fs.closeSync(fd);
  t.deepEqual(await keys(fs), ['a=value of a', 'b=value of b', 'c=value of c']);
  t.false(fs.list(DIR).some((name) => name.endsWith('.tmp')));
});

test('a directory of segments only (restored from a backup) opens with exactly their data', async (t) => {
  const fs = await threeSegments();
  t.deepEqual(await keys(fs), ['a=value of a', 'b=value of b', 'c=value of c']);
});

test('a damaged segment fails the open as corruption and leaves the directory as it was', async (t) => {
  const fs = await threeSegments();
  const size = fs.contents(`${DIR}/segment-00000002-00000002.db`).length;
  fs.corrupt(`${DIR}/segment-00000002-00000002.db`, size - 20, Buffer.from([1, 2, 3]));
  const error = await t.throwsAsync(LsmStore.open(DIR, { fs: fs as unknown as StoreFs }));
  t.is(error?.message, 'corruption in segment-00000002-00000002.db: footer checksum mismatch');
  t.is(fs.list(DIR).length, 3);
  t.false(fs.list(DIR).includes('LOCK'), 'a failed open releases the lock');
});
