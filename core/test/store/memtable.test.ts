import test from 'ava';
import { Memtable } from '../../src/store/memtable.js';

const walk = (memtable: Memtable, from?: string) => {
  const keys: string[] = [];
  const cursor = memtable.cursor();
  for (cursor.seek(from === undefined ? undefined : Buffer.from(from)); cursor.valid; cursor.next())
    keys.push(cursor.key.toString());
  return keys;
};

test('the memtable keeps keys in byte order, overwrites in place and keeps tombstones', (t) => {
  const memtable = new Memtable(1);
  const keys = Array.from({ length: 20_000 }, (_, i) => `k${(i * 7919) % 20_000}`);
  for (const key of keys) memtable.set(Buffer.from(key), Buffer.from(`v-${key}`));
  memtable.set(Buffer.from('k5'), Buffer.from('new'));
  memtable.set(Buffer.from('k6'), undefined);
  t.is(memtable.count, 20_000);
  t.deepEqual(walk(memtable), [...new Set(keys)].sort());
  t.deepEqual(memtable.get(Buffer.from('k5')), { found: true, value: Buffer.from('new') });
  t.deepEqual(memtable.get(Buffer.from('k6')), { found: true, value: undefined });
  t.deepEqual(memtable.get(Buffer.from('absent')), { found: false });
  t.deepEqual(
    walk(memtable, 'k19999'),
    ['k19999', 'k2', 'k20', 'k200', 'k2000', 'k2001', 'k2002'].concat(walk(memtable, 'k2002').slice(1)),
  );
  t.deepEqual(walk(memtable, 'k99999'), []);
});

test('byte order, not UTF-16 order: keys with high bytes sort after ASCII', (t) => {
  const memtable = new Memtable(1);
  for (const key of [Buffer.from([0xff]), Buffer.from('a'), Buffer.from([0x80, 1]), Buffer.from([0])])
    memtable.set(key, key);
  const cursor = memtable.cursor();
  const seen: number[][] = [];
  for (cursor.seek(undefined); cursor.valid; cursor.next()) seen.push([...cursor.key]);
  t.deepEqual(seen, [[0], [0x61], [0x80, 1], [0xff]]);
});

test('a cursor survives inserts between its steps: no key repeated or skipped', (t) => {
  const memtable = new Memtable(1);
  for (let i = 0; i < 5000; i += 2) memtable.set(Buffer.from(`k${String(i).padStart(5, '0')}`), Buffer.from('even'));
  const cursor = memtable.cursor();
  const seen: string[] = [];
  let odd = 1;
  for (cursor.seek(undefined); cursor.valid; cursor.next()) {
    seen.push(cursor.key.toString());
    // Insert keys before and after the cursor, splitting leaves under it.
    for (let j = 0; j < 3 && odd < 5000; j++, odd += 2)
      memtable.set(Buffer.from(`k${String(odd).padStart(5, '0')}`), Buffer.from('odd'));
  }
  t.deepEqual(seen, [...new Set(seen)].sort(), 'in order, no repeats');
  const evens = seen.filter((key) => Number(key.slice(1)) % 2 === 0);
  t.is(evens.length, 2500, 'every key present from the start is seen');
});

test('the memtable counts its bytes for the flush threshold', (t) => {
  const memtable = new Memtable(1);
  memtable.set(Buffer.from('key'), Buffer.alloc(1000));
  const once = memtable.bytes;
  t.true(once >= 1003);
  memtable.set(Buffer.from('key'), Buffer.alloc(10));
  t.is(memtable.bytes, once - 990);
});
