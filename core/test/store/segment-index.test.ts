import test from 'ava';
import { writeVarint } from '../../src/store/encoding.js';
import { type BlockHandle, SegmentIndex } from '../../src/store/segment-index.js';

interface Entry {
  readonly key: Buffer;
  readonly offset: number;
  readonly length: number;
}

/** An index block body as segment-format.ts lays it out, for entries given by hand. */
function encode(entries: readonly Entry[], count = entries.length): Buffer {
  const out = Buffer.alloc(10 + entries.reduce((sum, e) => sum + e.key.length + 30, 0));
  let at = writeVarint(out, 0, count);
  for (const { key, offset, length } of entries) {
    at = writeVarint(out, at, key.length);
    at += key.copy(out, at);
    at = writeVarint(out, at, offset);
    at = writeVarint(out, at, length);
  }
  return out.subarray(0, at);
}

/** Blocks of 100 bytes laid end to end, one per last key. */
function contiguous(keys: readonly Buffer[]): Entry[] {
  return keys.map((key, i) => ({ key, offset: i * 100, length: 100 }));
}

class Damaged extends Error {}
const corrupt = (detail: string): never => {
  throw new Damaged(detail);
};
const parse = (bytes: Buffer, dataEnd = Number.MAX_SAFE_INTEGER) => new SegmentIndex(bytes, dataEnd, corrupt);

/** What find must return: the first block whose last key is >= key. */
function expected(keys: readonly Buffer[], key: Buffer): number {
  const found = keys.findIndex((last) => Buffer.compare(last, key) >= 0);
  return found === -1 ? keys.length : found;
}

test('find locates keys of different lengths: before the first block, equal to last keys, between, after', (t) => {
  // 'c' x 300 needs a two-byte length varint; the empty key sorts before everything.
  const keys = ['', 'a', 'ab', 'b', 'ba\u0000', 'c'.repeat(300)].map((k) => Buffer.from(k));
  const index = parse(encode(contiguous(keys)));
  t.is(index.length, keys.length);
  const probes = [
    '',
    'a',
    'aa',
    'ab',
    'abc',
    'b',
    'ba',
    'ba\u0000',
    'ba\u0000\u0000',
    'c',
    'c'.repeat(300),
    'c'.repeat(301),
  ];
  for (const probe of [...probes, 'd', '\u00ff'].map((k) => Buffer.from(k, 'latin1'))) {
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
  const keys = [...new Map(Array.from({ length: 2000 }, randomKey).map((k) => [k.toString('hex'), k])).values()].sort(
    Buffer.compare,
  );
  const index = parse(encode(contiguous(keys)));
  for (let i = 0; i < 5000; i++) {
    const probe = i % 2 === 0 ? randomKey() : (keys[random() % keys.length] as Buffer);
    if (index.find(probe) !== expected(keys, probe)) return t.fail(`probe ${probe.toString('hex')}`);
  }
  t.pass();
});

test('a one-block index sends every key up to its last key to block 0 and the rest past the end', (t) => {
  const index = parse(encode([{ key: Buffer.from('m'), offset: 0, length: 4096 }]), 4096);
  t.is(index.length, 1);
  t.is(index.find(Buffer.from('a')), 0);
  t.is(index.find(Buffer.from('m')), 0);
  t.is(index.find(Buffer.from('m\u0000')), 1);
});

test('an empty index has no blocks', (t) => {
  const index = parse(encode([]), 0);
  t.is(index.length, 0);
  t.is(index.find(Buffer.from('a')), 0);
});

test('handles decode each block’s offset and length, including offsets past 4 GiB', (t) => {
  const entries: Entry[] = [
    { key: Buffer.from('a'), offset: 0, length: 4 },
    { key: Buffer.from('b'), offset: 4, length: 70_000 },
    { key: Buffer.from('c'), offset: 5 * 2 ** 30, length: 4100 },
  ];
  const index = parse(encode(entries), 6 * 2 ** 30);
  const handle: BlockHandle = { offset: -1, length: -1 };
  entries.forEach(({ offset, length }, i) => {
    index.handle(i, handle);
    t.deepEqual(handle, { offset, length });
  });
});

const damages: ReadonlyArray<[string, () => Buffer, number, string]> = [
  ['an empty index block', () => Buffer.alloc(0), 0, 'index block does not parse'],
  [
    'a count that runs past the entries',
    () => encode(contiguous([Buffer.from('abcdefgh')]), 2),
    100,
    'index entry 1 does not parse',
  ],
  [
    'a count too large to allocate',
    () => encode(contiguous([Buffer.from('a')]), 2 ** 50),
    100,
    'index block does not parse',
  ],
  [
    'a count short of the entries',
    () => encode(contiguous([Buffer.from('a'), Buffer.from('b')]), 1),
    200,
    'index block does not parse',
  ],
  [
    'a key cut short',
    () => encode(contiguous([Buffer.from('abcdefgh')])).subarray(0, 6),
    100,
    'index entry 0 does not parse',
  ],
  [
    'a key length past the end',
    () => {
      const bytes = encode(contiguous([Buffer.from('a'), Buffer.from('b')]));
      bytes[1] = 100; // the first key's length
      return bytes;
    },
    200,
    'index entry 0 does not parse',
  ],
  [
    'a truncated handle',
    () => encode(contiguous([Buffer.from('abc')])).subarray(0, 6),
    100,
    'index entry 0 does not parse',
  ],
  [
    'a block past the data',
    () => encode([{ key: Buffer.from('a'), offset: 4000, length: 200 }]),
    4096,
    'index entry 0 points outside the data',
  ],
  [
    'a block too short for its crc',
    () => encode([{ key: Buffer.from('a'), offset: 0, length: 3 }]),
    4096,
    'index entry 0 points outside the data',
  ],
];

for (const [title, bytes, dataEnd, message] of damages) {
  test(`${title} is refused`, (t) => {
    const error = t.throws(() => parse(bytes(), dataEnd), { instanceOf: Damaged });
    t.is(error?.message, message);
  });
}
