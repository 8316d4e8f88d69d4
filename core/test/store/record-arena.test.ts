import test from 'ava';
import { RecordArena } from '../../src/store/record-arena.js';

test('small records are carved in turn from chunks of their own; a large one gets memory of its own', (t) => {
  const arena = new RecordArena();
  const first = arena.allocate(100);
  const second = arena.allocate(200);
  t.is(first.buffer, second.buffer, 'consecutive small records share a chunk');
  t.is(first.buffer.byteLength, 64 * 1024, "the chunk is the arena's, not Node's shared pool");
  t.is(second.byteOffset, first.byteOffset + 100, 'without overlapping');
  const large = arena.allocate(20 * 1024);
  t.is(large.buffer.byteLength, large.length, 'a large record is not carved');
  const records = Array.from({ length: 1000 }, () => arena.allocate(1000));
  for (const record of records) t.is(record.length, 1000);
  t.true(
    records.every((record) => record.byteOffset + record.length <= record.buffer.byteLength),
    'none straddles',
  );
  t.true(new Set(records.map((record) => record.buffer)).size > 1, 'a full chunk is followed by a new one');
  second.fill(2);
  first.fill(1);
  t.true(
    second.every((byte) => byte === 2),
    'writing one record leaves the next alone',
  );
});
