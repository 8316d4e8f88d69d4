import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { BlockCache, type LsmStore, LsmStoreFactory } from '../../src/store/index.js';

/** Records which keys each set() was given, so a test can tell the stores' keys apart. */
class RecordingCache extends BlockCache {
  readonly keys: string[] = [];

  override set(key: string, block: Buffer): void {
    this.keys.push(key);
    super.set(key, block);
  }
}

const key = (i: number) => `key-${String(i).padStart(6, '0')}`;

test('stores opened by a factory share its block cache, under keys of their own, and read their own values', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'strata-shared-cache-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  // Small enough that reads through one store evict the other's blocks.
  const cache = new RecordingCache(64 * 1024);
  const factory = new LsmStoreFactory({ blockCache: cache });
  const stores = (await Promise.all([factory.open(join(root, 'a')), factory.open(join(root, 'b'))])) as LsmStore[];
  // The same keys in both stores, with values telling the stores apart.
  for (const [n, store] of stores.entries()) {
    await Promise.all(Array.from({ length: 2000 }, (_, i) => store.bucket('data').put(key(i), `${n}:${i}`)));
    await store.flush();
  }
  const used: Array<Set<string>> = [];
  for (const [n, store] of stores.entries()) {
    const before = cache.keys.length;
    for (let i = 0; i < 2000; i += 7) t.is((await store.bucket('data').get(key(i)))?.toString(), `${n}:${i}`);
    used.push(new Set(cache.keys.slice(before)));
    t.true((used[n] as Set<string>).size > 0, `store ${n} reads through the shared cache`);
  }
  for (const cacheKey of used[0] as Set<string>) t.false((used[1] as Set<string>).has(cacheKey));
  // Interleaved reads, each evicting the other's blocks: every value is still the store's own.
  for (let i = 0; i < 2000; i += 3) {
    for (const [n, store] of stores.entries()) t.is((await store.bucket('data').get(key(i)))?.toString(), `${n}:${i}`);
  }
  await Promise.all(stores.map((store) => store.close()));
});
