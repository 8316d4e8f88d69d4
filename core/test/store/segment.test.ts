import test from 'ava';
import { memfs } from 'memfs';
import { isCorruption } from '../../src/errors.js';
import { BlockCache } from '../../src/store/block-cache.js';
import { checksum, varintLength, writeVarint } from '../../src/store/encoding.js';
import { MergeCursor } from '../../src/store/merge-cursor.js';
import { writeSegmentFile } from '../../src/store/segment-format.js';
import { SegmentCursor, SegmentReader } from '../../src/store/segment-reader.js';
import type { StoreFs } from '../../src/store/vfs.js';

const noPause = async () => {};
const key = (i: number) => Buffer.from(`key-${String(i).padStart(6, '0')}`);
/** Every third key is a tombstone; the others hold a value that names the key. */
const entries = Array.from({ length: 10_000 }, (_, i) => ({
  key: key(i * 2),
  value: i % 3 === 0 ? undefined : Buffer.from(`value of ${i * 2} `.repeat(1 + (i % 5))),
}));

async function written() {
  const fs = memfs({ '/s': null }).fs as unknown as StoreFs;
  const result = await writeSegmentFile(fs, '/s', 'segment-00000001-00000001.db', entries, noPause);
  return {
    fs,
    result,
    open: () => SegmentReader.open(fs, '/s', 'segment-00000001-00000001.db', [1, 1], new BlockCache(1 << 20)),
  };
}

test('a written segment returns every value and tombstone, and nothing for absent keys', async (t) => {
  const { result, open } = await written();
  t.is(result.entries, entries.length);
  const reader = open();
  t.true(reader.blockCount > 10, 'a 10,000-entry segment spans many blocks');
  t.is(reader.entryCount, entries.length);
  for (const entry of entries) {
    const found = reader.get(entry.key);
    t.deepEqual(found, { found: true, value: entry.value }, entry.key.toString());
  }
  for (const i of [1, 3, 19_999, 20_001]) t.deepEqual(reader.get(key(i)), { found: false });
  t.deepEqual(reader.get(Buffer.from('a')), { found: false });
  t.deepEqual(reader.get(Buffer.from('z')), { found: false });
  reader.unref();
});

test('a segment cursor walks every entry in order, from the start or from a seek', async (t) => {
  const reader = (await written()).open();
  const cursor = new SegmentCursor(reader);
  const keys: string[] = [];
  for (cursor.seek(undefined); cursor.valid; cursor.next()) keys.push(cursor.key.toString());
  t.deepEqual(
    keys,
    entries.map((e) => e.key.toString()),
  );
  cursor.seek(key(501)); // between two keys
  t.is(cursor.key.toString(), key(502).toString());
  cursor.seek(Buffer.from('zzz'));
  t.false(cursor.valid);
  reader.unref();
});

test('a damaged data block is reported as corruption when it is read', async (t) => {
  const { fs, open } = await written();
  const anyFs = fs as unknown as { readFileSync(p: string): Buffer; writeFileSync(p: string, d: Buffer): void };
  anyFs.writeFileSync(
    '/s/segment-00000001-00000001.db',
    flip(anyFs.readFileSync('/s/segment-00000001-00000001.db'), 100),
  );
  const reader = open(); // footer, index and bloom are intact
  const error = t.throws(() => {
    for (const entry of entries.slice(0, 50)) reader.get(entry.key);
  });
  t.true(isCorruption(error));
  t.is(error?.message, 'corruption in segment-00000001-00000001.db: data block 0 checksum mismatch');
});

/** Every key and value a cursor walks from the start, as strings ('' for a tombstone). */
function walk(cursor: SegmentCursor): string[] {
  const seen: string[] = [];
  for (cursor.seek(undefined); cursor.valid; cursor.next()) seen.push(`${cursor.key}=${cursor.value ?? ''}`);
  return seen;
}

/** 20,000 entries of about 80 bytes: a segment of several read-aheads. */
const many = Array.from({ length: 20_000 }, (_, i) => ({ key: key(i), value: Buffer.from(`old ${i} `.repeat(8)) }));

test('a sequential cursor, reading many blocks per call into one buffer, walks what the cached one walks', async (t) => {
  const fs = memfs({ '/s': null }).fs as unknown as StoreFs;
  await writeSegmentFile(fs, '/s', 'segment-00000001-00000001.db', many, noPause);
  const reader = SegmentReader.open(fs, '/s', 'segment-00000001-00000001.db', [1, 1], new BlockCache(1 << 20));
  t.true(reader.blockCount * 4096 > 3 * 256 * 1024, 'the walk refills its read-ahead buffer several times');
  t.deepEqual(walk(new SegmentCursor(reader, reader.sequentialBlocks())), walk(new SegmentCursor(reader)));
  reader.unref();
});

test('a sequential cursor reads a block larger than its read-ahead buffer', async (t) => {
  const fs = memfs({ '/s': null }).fs as unknown as StoreFs;
  const big = [
    { key: key(1), value: Buffer.from('small') },
    { key: key(2), value: Buffer.alloc(600 * 1024, 'b') },
    { key: key(3), value: Buffer.from('after') },
  ];
  await writeSegmentFile(fs, '/s', 'segment-00000001-00000001.db', big, noPause);
  const reader = SegmentReader.open(fs, '/s', 'segment-00000001-00000001.db', [1, 1], new BlockCache(1 << 20));
  const cursor = new SegmentCursor(reader, reader.sequentialBlocks());
  const values: Buffer[] = [];
  for (cursor.seek(undefined); cursor.valid; cursor.next()) values.push(Buffer.from(cursor.value as Buffer));
  t.deepEqual(
    values,
    big.map((entry) => entry.value),
  );
  reader.unref();
});

test('a sequential cursor reports a damaged block, or one cut short after opening, as corruption', async (t) => {
  const { fs, open } = await written();
  const anyFs = fs as unknown as {
    readFileSync(p: string): Buffer;
    writeFileSync(p: string, d: Buffer): void;
    truncateSync(p: string, length: number): void;
  };
  const path = '/s/segment-00000001-00000001.db';
  const intact = anyFs.readFileSync(path);
  // A byte well past the first read-ahead: found only once the cursor refills.
  anyFs.writeFileSync(path, flip(intact, 300 * 1024));
  const damaged = open();
  const error = t.throws(() => walk(new SegmentCursor(damaged, damaged.sequentialBlocks())));
  t.true(isCorruption(error));
  t.regex(error?.message ?? '', /^corruption in segment-00000001-00000001\.db: data block \d+ checksum mismatch$/);
  t.not(error?.message, 'corruption in segment-00000001-00000001.db: data block 0 checksum mismatch');
  damaged.unref();

  anyFs.writeFileSync(path, intact);
  const shortened = open();
  shortened.get(key(0)); // caches the index partition, which lies past the cut
  anyFs.truncateSync(path, 100 * 1024);
  const cut = t.throws(() => walk(new SegmentCursor(shortened, shortened.sequentialBlocks())));
  t.is(cut?.message, 'corruption in segment-00000001-00000001.db: data block 0 is truncated');
  shortened.unref();
});

test('merging sequential cursors whose buffers are reused keeps the newest entry of each key', async (t) => {
  const fs = memfs({ '/s': null }).fs as unknown as StoreFs;
  const older = many;
  // Large enough to refill its buffer too, each time on a key the older segment also holds.
  const newer = older
    .filter((_, i) => i % 3 === 0)
    .map((e) => ({ key: e.key, value: Buffer.from(`new ${e.key} `.repeat(8)) }));
  await writeSegmentFile(fs, '/s', 'segment-00000001-00000001.db', older, noPause);
  await writeSegmentFile(fs, '/s', 'segment-00000002-00000002.db', newer, noPause);
  const cache = new BlockCache(1 << 20);
  const readers = [2, 1].map((n) => SegmentReader.open(fs, '/s', `segment-0000000${n}-0000000${n}.db`, [n, n], cache));
  const merged = new MergeCursor(readers.map((reader) => new SegmentCursor(reader, reader.sequentialBlocks())));
  const seen: string[] = [];
  for (merged.seek(undefined); merged.valid; merged.next()) seen.push(`${merged.key}=${merged.value}`);
  t.deepEqual(
    seen,
    older.map((e, i) => `${e.key}=${i % 3 === 0 ? `new ${e.key} `.repeat(8) : e.value}`),
  );
  for (const reader of readers) reader.unref();
});

test('every block is found by its last key, and the key just after it finds the next block', async (t) => {
  const reader = (await written()).open();
  const bounds = { kind: 0, keyStart: 0, keyEnd: 0, valueEnd: 0 };
  for (let i = 0; i < reader.blockCount; i++) {
    const block = reader.block(i);
    for (let at = 0; at < block.length; at = bounds.valueEnd) reader.entryAt(block, at, bounds, i);
    const last = Buffer.from(block.subarray(bounds.keyStart, bounds.keyEnd));
    t.is(reader.findBlock(last), i, last.toString());
    t.true(reader.get(last).found);
    t.is(reader.findBlock(Buffer.concat([last, Buffer.from([0])])), i + 1);
  }
  t.is(reader.findBlock(Buffer.from('')), 0, 'a key before the first block');
  reader.unref();
});

test('a segment of one block answers keys before, at, between and after its entries', async (t) => {
  const fs = memfs({ '/s': null }).fs as unknown as StoreFs;
  const few = [key(2), key(4), key(6)].map((k) => ({ key: k, value: Buffer.from(`v${k}`) }));
  await writeSegmentFile(fs, '/s', 'segment-00000001-00000001.db', few, noPause);
  const reader = SegmentReader.open(fs, '/s', 'segment-00000001-00000001.db', [1, 1], new BlockCache(1 << 20));
  t.is(reader.blockCount, 1);
  for (const { key: k, value } of few) t.deepEqual(reader.get(k), { found: true, value });
  for (const i of [1, 3, 5, 7]) t.deepEqual(reader.get(key(i)), { found: false });
  const cursor = new SegmentCursor(reader);
  cursor.seek(key(1));
  t.is(cursor.key.toString(), key(2).toString());
  cursor.seek(key(6));
  t.is(cursor.key.toString(), key(6).toString());
  cursor.seek(key(7));
  t.false(cursor.valid);
  reader.unref();
});

/** Where the segment `data`'s index block starts, as its footer says. */
function indexOffset(data: Buffer): number {
  return Number(data.readBigUInt64LE(data.length - 48));
}

/**
 * `data` with its index block's body changed by `edit` and its crc recomputed, so only the index's
 * structure can tell.
 */
function withIndex(data: Buffer, edit: (body: Buffer) => void): Buffer {
  const damaged = Buffer.from(data);
  const offset = indexOffset(damaged);
  const body = damaged.subarray(offset, offset + damaged.readUInt32LE(damaged.length - 40) - 4);
  edit(body);
  damaged.writeUInt32LE(checksum(body), offset + body.length);
  return damaged;
}

test('an index block whose checksum passes but whose structure does not is refused as corruption', async (t) => {
  const { fs, open } = await written();
  const intact = open();
  const blocks = intact.blockCount;
  intact.unref();
  const anyFs = fs as unknown as { readFileSync(p: string): Buffer; writeFileSync(p: string, d: Buffer): void };
  const data = anyFs.readFileSync('/s/segment-00000001-00000001.db');
  const cases: Array<[(body: Buffer) => void, string]> = [
    // One block more than the entries hold: parsing runs off the end of the index.
    [(body) => writeVarint(body, 0, blocks + 1), `index entry ${blocks} does not parse`],
    // One block fewer: bytes are left over.
    [(body) => writeVarint(body, 0, blocks - 1), 'index block does not parse'],
  ];
  t.is(varintLength(blocks + 1), varintLength(blocks - 1), 'the edits keep the index the same size');
  for (const [edit, message] of cases) {
    anyFs.writeFileSync('/s/segment-00000001-00000001.db', withIndex(data, edit));
    const error = t.throws(open);
    t.true(isCorruption(error));
    t.is(error?.message, `corruption in segment-00000001-00000001.db: ${message}`);
  }
});

/** `data` with every bit of byte `at` flipped. */
function flip(data: Buffer, at: number): Buffer {
  const damaged = Buffer.from(data);
  damaged[at] = (damaged[at] as number) ^ 0xff;
  return damaged;
}

const damages: ReadonlyArray<[string, (data: Buffer) => Buffer, string]> = [
  ['a truncated file', (d) => d.subarray(0, d.length - 10), 'no segment footer (bad magic number)'],
  ['a damaged footer', (d) => flip(d, d.length - 40), 'footer checksum mismatch'],
  ['a tiny file', () => Buffer.from('not a segment'), '13 bytes is too short for a segment'],
  ['a damaged index', (d) => flip(d, indexOffset(d) + 5), 'index checksum mismatch'],
];

for (const [title, damage, message] of damages) {
  test(`opening ${title} fails as corruption`, async (t) => {
    const { fs, open } = await written();
    const anyFs = fs as unknown as { readFileSync(p: string): Buffer; writeFileSync(p: string, d: Buffer): void };
    const data = anyFs.readFileSync('/s/segment-00000001-00000001.db');
    anyFs.writeFileSync('/s/segment-00000001-00000001.db', damage(data));
    const error = t.throws(open);
    t.true(isCorruption(error));
    t.is(error?.message, `corruption in segment-00000001-00000001.db: ${message}`);
  });
}
