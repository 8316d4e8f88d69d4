import { randomBytes } from 'node:crypto';
import { type ConformanceTest, randomName, type SuiteRun } from '../harness.js';

const allByteValues = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));

/** Objects of every shape come back byte for byte. */
const payloads: ReadonlyArray<{ readonly name: string; readonly data: () => Buffer }> = [
  { name: 'an empty object (0 bytes)', data: () => Buffer.alloc(0) },
  { name: 'a tiny object (1 byte)', data: () => Buffer.from('x') },
  { name: 'a binary object holding every byte value', data: () => allByteValues },
  { name: 'a 3 MiB object streamed in many chunks', data: () => randomBytes(3 * 1024 * 1024 + 17) },
];

/** Keys with nested paths and characters object stores and filesystems treat specially. */
export const specialKeys: readonly string[] = [
  'nested/deeper/still/deeper/object.bin',
  'with space and (parens) + plus = equals; semi, comma',
  'unicode-ü-名前-🙂',
  'dots.in..name...',
  `quotes-'single'-"double"`,
  'percent-%25-%2F-encoded',
  'symbols-~!@#$^&*[]{}|`',
];

export function roundTripChecks(test: ConformanceTest, run: SuiteRun): void {
  for (const payload of payloads) {
    test(`${run.label} write then read returns ${payload.name} byte for byte`, async (t) => {
      const s = await run.open(t);
      const key = randomName();
      const data = payload.data();
      const written = await s.put(key, data);
      t.is(
        written,
        data.length,
        `write() must resolve with the number of bytes written (${data.length}), got ${written}`,
      );
      const read = await s.get(key);
      t.is(read.length, data.length, `read() returned ${read.length} bytes of a ${data.length}-byte object`);
      t.true(read.equals(data), 'read() returned different bytes than were written');
      await s.backend.delete(key, s.options);
      await s.finish();
    });
  }

  test(`${run.label} write over an existing key replaces the whole object`, async (t) => {
    const s = await run.open(t);
    const key = randomName();
    await s.put(key, randomBytes(200_000));
    const replacement = Buffer.from('shorter replacement');
    await s.put(key, replacement);
    t.true((await s.get(key)).equals(replacement), 'after an overwrite, read() must return exactly the new bytes');
    await s.backend.delete(key, s.options);
    await s.finish();
  });

  test(`${run.label} keys with nested paths and special characters round-trip and list exactly`, async (t) => {
    const s = await run.open(t);
    const base = randomName('special');
    const keys = specialKeys.map((key) => `${base}/${key}`);
    for (const key of keys) await s.put(key, Buffer.from(key));
    for (const key of keys) {
      t.is((await s.get(key)).toString(), key, `read("${key}") returned the content of another key`);
    }
    const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    t.deepEqual(await s.keys(`${base}/`), expected, 'list() must return each key exactly as written, in byte order');
    for (const key of keys) await s.backend.delete(key, s.options);
    await s.finish();
  });
}
