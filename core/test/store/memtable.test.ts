import test from 'ava';
import { Memtable } from '../../src/store/memtable.js';

test('the memtable keeps keys in byte order, overwrites in place and keeps tombstones', (t) => {
  const memtable = new Memtable(1);
  const keys = Array.from({ length: 2000 }, (_, i) => `k${(i * 7919) % 2000}`);
  for (const key of keys) memtable.set(Buffer.from(key), Buffer.from(`v-${key}`));
  memtable.set(Buffer.from('k5'), Buffer.from('new'));
  memtable.set(Buffer.from('k6'), undefined);
  t.is(memtable.count, 2000);
  const walked: string[] = [];
  for (let node = memtable.first(); node !== undefined; node = node.next[0]) walked.push(node.key.toString());
  t.deepEqual(walked, [...new Set(keys)].sort());
  t.deepEqual(memtable.get(Buffer.from('k5')), { found: true, value: Buffer.from('new') });
  t.deepEqual(memtable.get(Buffer.from('k6')), { found: true, value: undefined });
  t.deepEqual(memtable.get(Buffer.from('absent')), { found: false });
  t.is(memtable.seek(Buffer.from('k1999'))?.key.toString(), 'k1999');
  t.is(memtable.seek(Buffer.from('k19990'))?.key.toString(), 'k2');
});

test('the memtable counts its bytes for the flush threshold', (t) => {
  const memtable = new Memtable(1);
  memtable.set(Buffer.from('key'), Buffer.alloc(1000));
  const once = memtable.bytes;
  t.true(once >= 1003);
  memtable.set(Buffer.from('key'), Buffer.alloc(10));
  t.is(memtable.bytes, once - 990);
});
