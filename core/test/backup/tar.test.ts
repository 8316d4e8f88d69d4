import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { type EntrySink, extractTar, type TarEntry, tarHeader, tarStream } from '../../src/backup/tar.js';

const MTIME = new Date('2026-01-02T03:04:05Z');

function entry(name: string, content: Buffer): TarEntry {
  return { name, size: content.length, mtime: MTIME, content: [content] };
}

async function archive(entries: TarEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of tarStream(entries)) parts.push(part);
  return Buffer.concat(parts);
}

/** Extracts into memory, feeding the archive in pieces of `pieceSize` bytes. */
async function extract(bytes: Buffer, pieceSize = 4096): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const pieces = Array.from({ length: Math.ceil(bytes.length / pieceSize) }, (_, i) =>
    bytes.subarray(i * pieceSize, (i + 1) * pieceSize),
  );
  await extractTar(
    pieces,
    async (name): Promise<EntrySink> => {
      const parts: Buffer[] = [];
      return {
        write: async (chunk) => void parts.push(Buffer.from(chunk)),
        end: async () => void files.set(name, Buffer.concat(parts)),
        abort: async () => {},
      };
    },
    'test.tar',
  );
  return files;
}

const longClass = `a${'b'.repeat(254)}`; // Weaviate allows class names of 255 characters
const names = [
  'article/AbCdEfGhIjKl/objects/segment-00000001-00000001.db',
  `${'x'.repeat(150)}/AbCdEfGhIjKl/objects/segment-00000002-00000002.db`, // ustar prefix + name
  `${longClass}/AbCdEfGhIjKl/objects/segment-00000003-00000003.db`, // needs a pax header
  `élan/ÅbCdEfGhIjKl/${'ü'.repeat(60)}.db`, // multi-byte characters past 100 bytes
];

test('archives round-trip, whatever the names, sizes and how the stream is cut', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom(...names), fc.uint8Array({ maxLength: 3000 })), { maxLength: 6 }),
      fc.integer({ min: 1, max: 2048 }),
      async (files, pieceSize) => {
        const unique = new Map(files.map(([name, content]) => [name, Buffer.from(content)]));
        const bytes = await archive([...unique].map(([name, content]) => entry(name, content)));
        t.is(bytes.length % 512, 0);
        t.deepEqual(await extract(bytes, pieceSize), unique);
      },
    ),
  );
});

test('GNU tar lists and extracts what Strata writes, long and multi-byte names included', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-tar-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = names.map((name, i) => entry(name, Buffer.alloc(1000 * i + 7, i + 1)));
  await writeFile(join(dir, 'chunk.tar'), await archive(files));
  t.deepEqual(execFileSync('tar', ['-tf', 'chunk.tar'], { cwd: dir }).toString().trim().split('\n'), names);
  execFileSync('tar', ['-xf', 'chunk.tar'], { cwd: dir });
  for (const [i, file] of files.entries())
    t.deepEqual(await readFile(join(dir, file.name)), Buffer.alloc(1000 * i + 7, i + 1));
});

test('Strata reads what GNU tar writes in ustar and pax formats', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-tar-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [i, name] of names.slice(0, 2).entries()) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), Buffer.alloc(600 * i + 3, i + 9));
  }
  for (const format of ['ustar', 'pax']) {
    execFileSync('tar', [`--format=${format}`, '-cf', 'out.tar', ...names.slice(0, 2)], { cwd: dir });
    const files = await extract(await readFile(join(dir, 'out.tar')));
    t.deepEqual([...files.keys()], names.slice(0, 2), format);
    t.deepEqual(files.get(names[1] as string), Buffer.alloc(603, 10));
  }
});

test('sizes of 8 GiB and more use the base-256 field, which GNU tar reads', async (t) => {
  const size = 9 * 1024 ** 3 + 5;
  const header = tarHeader('big.db', size, MTIME);
  t.is(header[124], 0x80);
  const dir = await mkdtemp(join(tmpdir(), 'strata-tar-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'header.tar'), header);
  const listing = (() => {
    try {
      return execFileSync('tar', ['-tvf', 'header.tar'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    } catch (error) {
      return String((error as { stdout: Buffer }).stdout); // tar lists the entry, then reports the missing data
    }
  })();
  t.regex(listing, new RegExp(`\\s${size}\\s.*big\\.db`));
  let seen = 0;
  await t.throwsAsync(
    extractTar(
      [header],
      async (_, entrySize) => {
        seen = entrySize;
        return { write: async () => {}, end: async () => {}, abort: async () => {} };
      },
      'big.tar',
    ),
    { message: 'corrupted backup file: big.tar: the archive is truncated' },
  );
  t.is(seen, size);
});

test('damaged archives are reported, naming the archive', async (t) => {
  const bytes = await archive([entry('a/b/c.db', Buffer.alloc(100, 1))]);
  const flipped = Buffer.from(bytes);
  flipped[10] = 0x41;
  await t.throwsAsync(extract(flipped), { message: 'corrupted backup file: test.tar: tar header checksum mismatch' });
  await t.throwsAsync(extract(bytes.subarray(0, 600)), {
    message: 'corrupted backup file: test.tar: the archive is truncated',
  });
  const symlink = Buffer.from(bytes);
  symlink.write('2', 156, 'latin1');
  let sum = 0;
  symlink.write('        ', 148, 'latin1');
  for (const byte of symlink.subarray(0, 512)) sum += byte;
  symlink.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  await t.throwsAsync(extract(symlink), {
    message: 'corrupted backup file: test.tar: unexpected tar entry type "2" for "a/b/c.db"',
  });
});
