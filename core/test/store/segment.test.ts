import test from 'ava';
import { memfs } from 'memfs';
import { isCorruption } from '../../src/errors.js';
import { BlockCache } from '../../src/store/block-cache.js';
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
