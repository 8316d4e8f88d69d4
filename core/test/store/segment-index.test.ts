import test from 'ava';
import { BlockCache } from '../../src/store/block-cache.js';
import { checksum, writeVarint } from '../../src/store/encoding.js';
import { type BlockHandle, SegmentIndex } from '../../src/store/segment-index.js';
import { type IndexReader, scanIndex } from '../../src/store/segment-index-scan.js';

interface Entry {
  readonly key: Buffer;
  readonly offset: number;
  readonly length: number;
}

/** An index block as segment-format.ts lays it out, crc included, for entries given by hand. */
function encode(entries: readonly Entry[], count = entries.length): Buffer {
  const body = Buffer.alloc(10 + entries.reduce((sum, e) => sum + e.key.length + 30, 0));
  let at = writeVarint(body, 0, count);
  for (const { key, offset, length } of entries) {
    at = writeVarint(body, at, key.length);
    at += key.copy(body, at);
    at = writeVarint(body, at, offset);
    at = writeVarint(body, at, length);
  }
  return withChecksum(body.subarray(0, at));
}

function withChecksum(body: Buffer): Buffer {
  const block = Buffer.alloc(body.length + 4);
  body.copy(block);
  block.writeUInt32LE(checksum(body), body.length);
  return block;
}

/** Blocks of 100 bytes laid end to end, one per last key. */
function contiguous(keys: readonly Buffer[]): Entry[] {
  return keys.map((key, i) => ({ key, offset: i * 100, length: 100 }));
}

const numbered = (n: number, width = 4) =>
  Array.from({ length: n }, (_, i) => Buffer.from(`key-${String(i).padStart(width, '0')}`));

/** Reads `file` as an IndexReader does, recording where each read started. */
function readerOf(file: Buffer, reads: number[] = []): IndexReader {
  return (into, offset, length, start) => {
    reads.push(start);
    const n = Math.max(0, Math.min(length, file.length - start));
    into.set(file.subarray(start, start + n), offset);
    return n;
  };
}

class Damaged extends Error {}
const corrupt = (detail: string): never => {
  throw new Damaged(detail);
};

interface Options {
  readonly dataEnd?: number;
  /** What partitions are read back from, when the file changed since it was opened. */
  readonly later?: Buffer;
  readonly cache?: BlockCache;
  readonly reads?: number[];
}

/** Opens the index block `file` as a segment reader does. */
function open(file: Buffer, { dataEnd = Number.MAX_SAFE_INTEGER, later = file, cache, reads }: Options = {}) {
  const summary = scanIndex(readerOf(file), file.length, dataEnd, corrupt);
  return new SegmentIndex(summary, readerOf(later, reads), cache ?? new BlockCache(1 << 20), 'i', corrupt);
}

/** What find must return: the first block whose last key is >= key. */
function expected(keys: readonly Buffer[], key: Buffer): number {
  const found = keys.findIndex((last) => Buffer.compare(last, key) >= 0);
  return found === -1 ? keys.length : found;
}

test('find locates keys of different lengths: before the first block, equal to last keys, between, after', (t) => {
  // 'c' x 300 needs a two-byte length varint; the empty key sorts before everything.
  const keys = ['', 'a', 'ab', 'b', 'ba\u0000', 'c'.repeat(300)].map((k) => Buffer.from(k));
  const index = open(encode(contiguous(keys)));
  t.is(index.length, keys.length);
  const probes = ['', 'a', 'aa', 'ab', 'abc', 'b', 'ba', 'ba\u0000', 'ba\u0000\u0000', 'c', 'c'.repeat(300)];
  for (const probe of [...probes, 'c'.repeat(301), 'd', '\u00ff'].map((k) => Buffer.from(k, 'latin1'))) {
    t.is(index.find(probe), expected(keys, probe), JSON.stringify(probe.toString('latin1')));
  }
  t.is(index.find(Buffer.from('zzz')), keys.length, 'after the last block');
});

test('find agrees with a linear search over many random keys', (t) => {
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  const randomKey = () => Buffer.from(Array.from({ length: 1 + (random() % 24) }, () => random() % 4));
  const unique = new Map(Array.from({ length: 2000 }, randomKey).map((k) => [k.toString('hex'), k]));
  const keys = [...unique.values()].sort(Buffer.compare);
  const index = open(encode(contiguous(keys)));
  for (let i = 0; i < 5000; i++) {
    const probe = i % 2 === 0 ? randomKey() : (keys[random() % keys.length] as Buffer);
    if (index.find(probe) !== expected(keys, probe)) return t.fail(`probe ${probe.toString('hex')}`);
  }
  t.pass();
});

test('across partitions, each block is found by its last key and the key after it finds the next', (t) => {
  const keys = numbered(300);
  const index = open(encode(contiguous(keys)));
  const handle: BlockHandle = { offset: -1, length: -1 };
  keys.forEach((key, i) => {
    t.is(index.find(key), i);
    t.is(index.find(Buffer.concat([key, Buffer.from([0])])), i + 1);
    index.handle(i, handle);
    t.deepEqual(handle, { offset: i * 100, length: 100 });
  });
  t.is(index.find(Buffer.from('key')), 0, 'before the first block');
});

test('an index larger than the scan window, and keys larger than it, are scanned whole', (t) => {
  for (const keys of [numbered(5000, 16), ['a', 'b', 'c'].map((c) => Buffer.from(c.repeat(70_000)))]) {
    const index = open(encode(contiguous(keys)));
    t.is(index.length, keys.length);
    for (const [i, key] of keys.entries()) if (index.find(key) !== i) return t.fail(`block ${i}`);
  }
  t.pass();
});

test('a one-block index sends every key up to its last key to block 0 and the rest past the end', (t) => {
  const index = open(encode([{ key: Buffer.from('m'), offset: 0, length: 4096 }]), { dataEnd: 4096 });
  t.is(index.length, 1);
  t.is(index.find(Buffer.from('a')), 0);
  t.is(index.find(Buffer.from('m')), 0);
  t.is(index.find(Buffer.from('m\u0000')), 1);
});

test('an empty index has no blocks', (t) => {
  const index = open(encode([]), { dataEnd: 0 });
  t.is(index.length, 0);
  t.is(index.find(Buffer.from('a')), 0);
});

test('handles decode each block’s offset and length, including offsets past 4 GiB', (t) => {
  const entries: Entry[] = [
    { key: Buffer.from('a'), offset: 0, length: 4 },
    { key: Buffer.from('b'), offset: 4, length: 70_000 },
    { key: Buffer.from('c'), offset: 5 * 2 ** 30, length: 4100 },
  ];
  const index = open(encode(entries), { dataEnd: 6 * 2 ** 30 });
  const handle: BlockHandle = { offset: -1, length: -1 };
  entries.forEach(({ offset, length }, i) => {
    index.handle(i, handle);
    t.deepEqual(handle, { offset, length });
  });
});

test('opening reads nothing back; a partition is read once, then served from the cache', (t) => {
  const reads: number[] = [];
  const index = open(encode(contiguous(numbered(300))), { reads });
  t.deepEqual(reads, []);
  for (let round = 0; round < 3; round++)
    for (const key of numbered(300).filter((_, i) => i % 7 === 0)) index.find(key);
  t.is(reads.length, 3, 'three partitions of 128, 128 and 44 entries');
});

test('with a cache too small for a partition every lookup reads it again and still answers', (t) => {
  const keys = numbered(200);
  const index = open(encode(contiguous(keys)), { cache: new BlockCache(16) });
  for (const [i, key] of keys.entries()) t.is(index.find(key), i);
});

test('a partition that changed on disk since the index was opened is refused', (t) => {
  const file = encode(contiguous(numbered(200)));
  const later = Buffer.from(file);
  later[later.length - 7] = 0x7f; // the last entry's key, in the second partition
  const index = open(file, { later });
  t.is(index.find(Buffer.from('key-0000')), 0, 'the first partition is intact');
  const error = t.throws(() => index.find(Buffer.from('key-0199')), { instanceOf: Damaged });
  t.is(error?.message, 'index partition 1 differs from the index checked at open');
});

/** An index block with `body` as its bytes and a crc that matches them. */
const raw = (...bytes: number[]) => withChecksum(Buffer.from(bytes));
const entry = (key: string) => ({ key: Buffer.from(key), offset: 0, length: 100 });

/** A case: its title, the index block, the error, and the length the footer claims if not the block's. */
const damages: ReadonlyArray<[string, () => Buffer, string, number?]> = [
  ['an index of its crc alone', () => raw(), 'index block does not parse'],
  ['a count that runs past the entries', () => encode([entry('abcdefgh')], 2), 'index entry 1 does not parse'],
  ['a count too large to allocate', () => encode([entry('a')], 2 ** 50), 'index block does not parse'],
  ['a count short of the entries', () => encode([entry('a'), entry('b')], 1), 'index block does not parse'],
  ['a key cut short', () => raw(1, 8, 0x61, 0x62, 0x63), 'index entry 0 does not parse'],
  ['a key length past the end', () => raw(2, 100, 0x61, 0, 100, 1, 0x62, 0, 100), 'index entry 0 does not parse'],
  ['a handle cut short', () => raw(1, 3, 0x61, 0x62, 0x63, 0), 'index entry 0 does not parse'],
  ['a varint of nine bytes', () => raw(1, 1, 0x61, ...Array(9).fill(0x80), 1), 'index entry 0 does not parse'],
  [
    'a block past the data',
    () => encode([{ key: Buffer.from('a'), offset: 4000, length: 200 }]),
    'index entry 0 points outside the data',
  ],
  [
    'a block too short for its crc',
    () => encode([{ key: Buffer.from('a'), offset: 0, length: 3 }]),
    'index entry 0 points outside the data',
  ],
  [
    'a damaged byte, whatever it does to the structure',
    () => {
      const file = encode(contiguous(numbered(10)));
      file[1] = 0x7f; // the first key's length: without the crc this would misparse
      return file;
    },
    'index checksum mismatch',
  ],
  [
    'a block the file ends inside',
    () => encode(contiguous(numbered(10))).subarray(0, 20),
    'index is truncated',
    encode(contiguous(numbered(10))).length,
  ],
];

for (const [title, file, message, claimed] of damages) {
  test(`${title} is refused`, (t) => {
    const bytes = file();
    const scan = () => scanIndex(readerOf(bytes), claimed ?? bytes.length, 4096, corrupt);
    const error = t.throws(scan, { instanceOf: Damaged });
    t.is(error?.message, message);
  });
}
