import { createHash } from 'node:crypto';
import test from 'ava';
import { BloomFilter, BloomFilterBuilder } from '../../src/store/bloom.js';

test('a bloom filter never misses a key it holds, and passes about 1% of absent keys', (t) => {
  const builder = new BloomFilterBuilder();
  const keys = Array.from({ length: 20_000 }, (_, i) => Buffer.from(`key-${i}`));
  for (const key of keys) builder.add(key);
  const filter = new BloomFilter(builder.finish());
  t.true(keys.every((key) => filter.mayContain(key)));
  let falsePositives = 0;
  for (let i = 0; i < 20_000; i++) if (filter.mayContain(Buffer.from(`absent-${i}`))) falsePositives++;
  t.true(falsePositives / 20_000 < 0.02, `false positive rate ${falsePositives / 20_000}`);
});

test('an empty filter rejects every key', (t) => {
  const filter = new BloomFilter(new BloomFilterBuilder().finish());
  t.false(filter.mayContain(Buffer.from('anything')));
});

test('the filter bytes for fixed keys are unchanged: they are part of the on-disk format', (t) => {
  const builder = new BloomFilterBuilder();
  for (let i = 0; i < 5_000; i++) builder.add(Buffer.from(`pinned-${i}`));
  const digest = createHash('sha256').update(builder.finish()).digest('hex');
  t.is(digest, '3cdfdcbaba440537cc4c57511dd9c26c48c9b1d3f40b72c971bfc636ed0abc68');
});
