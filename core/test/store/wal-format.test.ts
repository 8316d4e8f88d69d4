import test from 'ava';
import { isCorruption } from '../../src/errors.js';
import { encodeRecord, type Operation, RECORD_HEADER_BYTES, readWal } from '../../src/store/wal-format.js';

const encodeBatch = (operations: readonly Operation[]) => encodeRecord(operations).record;

const op = (key: string, value?: string): Operation => ({
  key: Buffer.from(key),
  value: value === undefined ? undefined : Buffer.from(value),
});
const batches: Operation[][] = [[op('a', '1')], [op('b', '2'), op('c')], [op('d', 'x'.repeat(300))]];
const log = Buffer.concat(batches.map(encodeBatch));
const shown = (contents: ReturnType<typeof readWal>) =>
  contents.batches.map((batch) => batch.map(({ key, value }) => [key.toString(), value?.toString() ?? null]));
const expected = batches.map((batch) => batch.map(({ key, value }) => [key.toString(), value?.toString() ?? null]));

test('records round-trip: every batch, in order, puts and deletes', (t) => {
  const contents = readWal(log, 'wal');
  t.deepEqual(shown(contents), expected);
  t.is(contents.validLength, log.length);
});

test('an empty log holds no batches', (t) => {
  t.deepEqual(readWal(Buffer.alloc(0), 'wal'), { batches: [], validLength: 0 });
});

test('a torn tail is dropped at every possible cut, never misread as data', (t) => {
  const lastStart = log.length - encodeBatch(batches[2] as Operation[]).length;
  for (let cut = lastStart; cut < log.length; cut++) {
    const contents = readWal(log.subarray(0, cut), 'wal');
    t.deepEqual(shown(contents), expected.slice(0, 2), `cut at ${cut}`);
    t.is(contents.validLength, lastStart);
  }
});

test('a damaged last record (any byte flipped) is dropped as a torn tail', (t) => {
  const lastStart = log.length - encodeBatch(batches[2] as Operation[]).length;
  for (let at = lastStart; at < log.length; at += 7) {
    const damaged = Buffer.from(log);
    damaged[at] = (damaged[at] as number) ^ 0xff;
    t.deepEqual(shown(readWal(damaged, 'wal')), expected.slice(0, 2), `byte ${at}`);
  }
});

test('zeroes after the last record (a preallocated or torn page) are dropped', (t) => {
  t.deepEqual(shown(readWal(Buffer.concat([log, Buffer.alloc(4096)]), 'wal')), expected);
});

test('a damaged record followed by valid ones is corruption, not a tail to drop', (t) => {
  const damaged = Buffer.from(log);
  damaged[RECORD_HEADER_BYTES + 1] = (damaged[RECORD_HEADER_BYTES + 1] as number) ^ 0x55; // inside the first record
  const error = t.throws(() => readWal(damaged, 'wal-00000001.log'));
  t.true(isCorruption(error));
  t.regex(
    error?.message ?? '',
    /^corruption in wal-00000001\.log: damaged record at byte 0, followed by valid records at byte \d+$/,
  );
});

test('a damaged length field is caught by the checksum', (t) => {
  const damaged = Buffer.from(log);
  damaged.writeUInt32LE(damaged.readUInt32LE(4) + 1, 4);
  t.throws(() => readWal(damaged, 'wal'), { code: 'STRATA_STORE_CORRUPTION' });
});

test('a record owns its bytes, and the operations come back as views of it', (t) => {
  const operations = [op('k1', 'v1'), op('k2'), op('k3', 'v3')];
  const { record, views } = encodeRecord(operations);
  t.is(record.buffer.byteLength, record.length, "a memory of its own, not a slice of Node's shared pool");
  t.deepEqual(views, operations);
  for (const { key, value } of views) {
    t.is(key.buffer, record.buffer);
    if (value !== undefined) t.is(value.buffer, record.buffer);
  }
  t.deepEqual(readWal(record, 'wal').batches, [operations]);
});
