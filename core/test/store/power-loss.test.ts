import test from 'ava';
import { isCorruption } from '../../src/errors.js';
import { LsmStore, type StoreFs, type SyncPolicy } from '../../src/store/index.js';
import { CrashableFs } from './helpers/crashable-fs.js';

const DIR = '/store';
const open = (fs: CrashableFs, sync: SyncPolicy) =>
  LsmStore.open(DIR, { fs: fs as unknown as StoreFs, sync, memtableBytes: 8 * 1024 });
const key = (i: number) => `key-${String(i).padStart(5, '0')}`;
const value = (i: number) => `value-${i}-${'.'.repeat(i % 50)}`;

/** Reads every key of the bucket into a Map. */
async function contents(store: LsmStore): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for await (const entry of store.bucket('data').scan()) found.set(entry.key.toString(), entry.value.toString());
  return found;
}

test('sync always: every acknowledged write survives a power loss at any moment, flushes and compactions included', async (t) => {
  const fs = new CrashableFs();
  const store = await open(fs, { mode: 'always' });
  const snapshots: Array<{ fs: CrashableFs; acknowledged: number }> = [];
  for (let i = 0; i < 1500; i++) {
    await store.bucket('data').put(key(i), value(i));
    if (i % 97 === 0) snapshots.push({ fs: fs.crash(), acknowledged: i + 1 });
  }
  t.true(store.stats().compactions > 0, 'the run should include compactions');
  await store.close();
  for (const snapshot of snapshots) {
    const recovered = await open(snapshot.fs, { mode: 'always' });
    const found = await contents(recovered);
    for (let i = 0; i < snapshot.acknowledged; i++) {
      t.is(found.get(key(i)), value(i), `write ${i} was acknowledged before the power loss, then lost`);
    }
    await recovered.close();
  }
});

test('sync flush: a power loss keeps everything flushed, loses at most the unflushed tail, and never corrupts', async (t) => {
  const fs = new CrashableFs();
  const store = await open(fs, { mode: 'flush' });
  for (let i = 0; i < 300; i++) await store.bucket('data').put(key(i), value(i));
  await store.flush();
  for (let i = 300; i < 400; i++) await store.bucket('data').put(key(i), value(i));
  const recovered = await open(fs.crash(), { mode: 'flush' });
  const found = await contents(recovered);
  for (let i = 0; i < 300; i++) t.is(found.get(key(i)), value(i));
  for (const [k, v] of found) t.is(v, value(Number(k.slice(4))), 'a value came back different from what was written');
  await recovered.close();
  await store.close();
});

test('a failed log write (disk full) rejects that write only; the store keeps going and recovers cleanly', async (t) => {
  const fs = new CrashableFs();
  const store = await open(fs, { mode: 'always' });
  const bucket = store.bucket('data');
  await bucket.put('before', 'ok');
  fs.failWriteAfter(0, 5); // the next write writes 5 bytes, then fails
  const error = await t.throwsAsync(bucket.put('failed', 'never stored'));
  t.is((error as { code?: string }).code, 'STRATA_STORE_WRITE_FAILED');
  t.regex(
    error?.message ?? '',
    /could not write its write-ahead log \(ENOSPC: .*\); the write was not applied\. Check free disk space/,
  );
  t.is(await bucket.get('failed'), undefined);
  await bucket.put('after', 'ok');
  const recovered = await open(fs.crash(), { mode: 'always' });
  t.deepEqual([...(await contents(recovered)).keys()], ['after', 'before']);
  await recovered.close();
  await store.close();
});

test('a damaged log tail (a torn write) is dropped on open; the records before it are kept', async (t) => {
  const fs = new CrashableFs();
  const store = await open(fs, { mode: 'always' });
  for (let i = 0; i < 5; i++) await store.bucket('data').put(key(i), value(i));
  const crashed = fs.crash();
  const wal = crashed.list(DIR).find((name) => name.startsWith('wal-')) as string;
  const size = crashed.contents(`${DIR}/${wal}`).length;
  crashed.corrupt(`${DIR}/${wal}`, size - 3, Buffer.from([0xde, 0xad, 0xbe]));
  const recovered = await open(crashed, { mode: 'always' });
  t.deepEqual([...(await contents(recovered)).keys()], [key(0), key(1), key(2), key(3)]);
  await recovered.close();
  await store.close();
});

test('a damaged record in the middle of the log refuses to open instead of losing the writes after it', async (t) => {
  const fs = new CrashableFs();
  const store = await open(fs, { mode: 'always' });
  for (let i = 0; i < 5; i++) await store.bucket('data').put(key(i), value(i));
  const crashed = fs.crash();
  const wal = crashed.list(DIR).find((name) => name.startsWith('wal-')) as string;
  crashed.corrupt(`${DIR}/${wal}`, 12, Buffer.from([0xff]));
  const error = await t.throwsAsync(open(crashed, { mode: 'always' }));
  t.true(isCorruption(error));
  t.regex(
    error?.message ?? '',
    new RegExp(`^corruption in ${wal}: damaged record at byte 0, followed by valid records`),
  );
  t.true(crashed.list(DIR).includes(wal), 'the damaged log must be kept for inspection');
  await store.close();
});
