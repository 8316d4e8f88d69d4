import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import zstd from 'zstd-napi/binding.js';
import { unpackChunk } from '../../src/backup/chunk-codec.js';
import { zstdDecompressed, zstdFrames } from '../../src/backup/chunk-compression.js';
import type { FileDescriptor } from '../../src/backup/descriptors.js';
import { tarHeader, tarStream } from '../../src/backup/tar.js';
import { BackupCorruptError } from '../../src/errors.js';
import { repeated, zstdFrame } from '../helpers/zstd.js';

// zstd chunks both ways, and what a restore does with zstd streams crafted to hurt it: each must
// fail with a BackupCorruptError naming the chunk, having read little of it and allocated little.
// The hostile streams are made with libzstd directly (zstd-napi's binding), not with the code tested.
// Serial: they count what libzstd decodes in this thread, which a test beside them would add to.

const MiB = 1024 * 1024;
const KEY = 'bk/node1/Article/chunk-1';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

/** `bytes` in pieces of `size`, as a stream. */
async function* inPieces(bytes: Buffer, size = 256 * 1024): AsyncIterable<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

/** A tar stream of `files` as a backup's chunk holds it, and what its descriptor records of them. */
async function archive(files: Record<string, Buffer>) {
  const tar = await collect(
    tarStream(
      Object.entries(files).map(([name, content]) => ({
        name,
        size: content.length,
        mtime: new Date(0),
        content: [content],
      })),
    ),
  );
  const descriptors: Record<string, FileDescriptor> = Object.fromEntries(
    Object.entries(files).map(([path, content]) => [path, { path, size: content.length }]),
  );
  return { tar, descriptors };
}

/** The chunk's bytes in pieces of `pieceBytes`, counting how many of them the reader took. */
function pieces(chunk: Buffer, pieceBytes: number): { source: AsyncIterable<Buffer>; taken(): number } {
  let taken = 0;
  return {
    source: (async function* () {
      for (let offset = 0; offset < chunk.length; offset += pieceBytes) {
        taken += Math.min(pieceBytes, chunk.length - offset);
        yield chunk.subarray(offset, offset + pieceBytes);
      }
    })(),
    taken: () => taken,
  };
}

/**
 * Counts the bytes libzstd decodes in this thread until the test ends, whatever the code under test
 * does with them: what was never decoded cannot be held.
 */
function countDecoded(t: ExecutionContext): () => number {
  const decompressStream = zstd.DCtx.prototype.decompressStream;
  let decoded = 0;
  zstd.DCtx.prototype.decompressStream = function (this: zstd.DCtx, output, input) {
    const result = decompressStream.call(this, output, input);
    decoded += result[1];
    return result;
  };
  t.teardown(() => {
    zstd.DCtx.prototype.decompressStream = decompressStream;
  });
  return () => decoded;
}

/** A scratch staging directory, gone when the test ends. */
async function staging(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-zstd-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Unpacks `chunk` (its descriptor agreeing with its size and hash, as a forger would make it) in this thread
 * and expects a BackupCorruptError naming the chunk, with `reason`. Resolves with how much of the
 * chunk was read, how much libzstd decoded, and how long it took.
 */
async function refused(
  t: ExecutionContext,
  chunk: Buffer,
  descriptors: Record<string, FileDescriptor>,
  reason: RegExp,
  pieceBytes = 4096,
) {
  const input = pieces(chunk, pieceBytes);
  const decoded = countDecoded(t);
  const started = performance.now();
  const error = await t.throwsAsync(
    unpackChunk(
      input.source,
      {
        key: KEY,
        size: chunk.length,
        compression: 'zstd',
        sha256: sha256(chunk),
        files: descriptors,
        staging: await staging(t),
      },
      () => {},
    ),
  );
  t.true(error instanceof BackupCorruptError, `${error?.constructor.name}: ${error?.message}`);
  t.is(error?.message.slice(0, `corrupted backup file: ${KEY}: `.length), `corrupted backup file: ${KEY}: `);
  t.regex(error?.message ?? '', reason);
  return { read: input.taken(), decoded: decoded(), ms: performance.now() - started };
}

test.serial(
  'zstdFrames writes one frame per frameBytes of input, which libzstd reads back as one stream',
  async (t) => {
    const input = Buffer.concat([randomBytes(MiB), Buffer.alloc(2 * MiB + 100, 0x61)]);
    const compressed = await collect(zstdFrames(inPieces(input), 'ZstdDefaultCompression', MiB));
    const contentSizes: Array<number | null> = [];
    for (let offset = 0; offset < compressed.length; ) {
      const frame = compressed.subarray(offset);
      contentSizes.push(zstd.getFrameContentSize(frame));
      offset += zstd.findFrameCompressedSize(frame);
    }
    t.deepEqual(contentSizes, [MiB, MiB, MiB, 100]);
    t.true(compressed.length < input.length / 2, `${compressed.length} bytes`);
    const plain = Buffer.alloc(input.length);
    t.is(zstd.decompress(plain, compressed), input.length);
    t.true(plain.equals(input), 'libzstd decodes the frames as one stream');
    t.true((await collect(zstdDecompressed(inPieces(compressed, 1000)))).equals(input), 'and so does zstdDecompressed');
  },
);

test.serial('zstdDecompressed produces at most 256 KiB a step, and only the steps it is asked for', async (t) => {
  let taken = 0;
  const bomb = zstdFrame(repeated(0, 4096)); // 4 GiB of zeros, about 128 KiB stored
  const decompressed = zstdDecompressed(
    (async function* () {
      for (let offset = 0; offset < bomb.length; offset += 1024) {
        taken += 1024;
        yield bomb.subarray(offset, offset + 1024);
      }
    })(),
  );
  let produced = 0;
  const decoded = countDecoded(t);
  for await (const piece of decompressed) {
    t.true(piece.length <= 256 * 1024, `a step of ${piece.length} bytes`);
    produced += piece.length;
    // Paused at a step, nothing is decoded past it, though 1 KiB of this bomb decodes to 32 MiB.
    t.is(decoded(), produced);
    if (produced >= 8 * MiB) break;
  }
  t.is(produced, 8 * MiB);
  t.true(taken <= 2048, `read ${taken} of ${bomb.length} stored bytes for 8 MiB`);
});

test.serial('a zstd chunk that ends inside its last frame fails, even with the whole archive decoded', async (t) => {
  const { tar, descriptors } = await archive({ 'article/s1/a.db': randomBytes(3000) });
  const chunk = await collect(zstdFrames(inPieces(tar), 'ZstdBestSpeed', MiB));
  // The last 4 bytes are the frame's checksum: without them every byte of the archive still decodes.
  const { read } = await refused(t, chunk.subarray(0, -4), descriptors, /: the zstd stream ends inside a frame$/);
  t.is(read, chunk.length - 4);
});

test.serial('a zstd chunk cut after a whole frame fails as a truncated archive', async (t) => {
  const { tar, descriptors } = await archive({ 'article/s1/a.db': randomBytes(3 * MiB) });
  const chunk = await collect(zstdFrames(inPieces(tar), 'ZstdBestSpeed', MiB));
  const first = zstd.findFrameCompressedSize(chunk);
  await refused(t, chunk.subarray(0, first), descriptors, /: the archive is truncated$/);
});

test.serial('a chunk that is not zstd at all fails with libzstd’s reason', async (t) => {
  const { descriptors } = await archive({ 'article/s1/a.db': randomBytes(10) });
  await refused(t, randomBytes(64 * 1024), descriptors, /: Unknown frame descriptor$/);
});

test.serial('a zstd chunk with a byte flipped in a frame fails', async (t) => {
  const { tar, descriptors } = await archive({ 'article/s1/a.db': Buffer.alloc(MiB, 0x61) });
  const chunk = await collect(zstdFrames(inPieces(tar), 'ZstdDefaultCompression', MiB));
  chunk[Math.floor(chunk.length / 2)] ^= 0x10;
  await refused(t, chunk, descriptors, /./);
});

test.serial('a zstd frame that asks for a 128 MiB window is refused before anything is decoded', async (t) => {
  const { tar, descriptors } = await archive({ 'article/s1/a.db': randomBytes(1000) });
  // As `zstd --long=27` writes it: a window of 2^27 bytes declared in the frame header.
  const chunk = zstdFrame([tar], { windowLog: 27 });
  const { decoded } = await refused(t, chunk, descriptors, /: Frame requires too much memory for decoding$/);
  t.is(decoded, 0);
});

test.serial(
  'a tiny zstd chunk that decodes to 4 GiB of zeros after the archive ends fails within its first MiB',
  async (t) => {
    const { tar, descriptors } = await archive({ 'article/s1/a.db': randomBytes(3000) });
    const chunk = Buffer.concat([zstdFrame([tar]), zstdFrame(repeated(0, 4096))]);
    t.true(chunk.length < 256 * 1024, `the bomb is ${chunk.length} bytes`);
    const { read, ms, decoded } = await refused(t, chunk, descriptors, /: data follows the end of the archive$/);
    t.true(read < chunk.length / 4, `read ${read} of ${chunk.length} bytes`);
    t.true(ms < 5000, `${ms} ms`);
    t.true(decoded < 4 * MiB, `decoded ${decoded} bytes`);
  },
);

test.serial(
  'a tiny zstd chunk whose entry claims 4 GiB the descriptor does not list fails at its header',
  async (t) => {
    const { descriptors } = await archive({ 'article/s1/a.db': randomBytes(1024) });
    const header = tarHeader('article/s1/a.db', 4 * 1024 * MiB, new Date(0));
    const chunk = zstdFrame([header, ...repeated(0, 4096)]);
    const { read, ms, decoded } = await refused(
      t,
      chunk,
      descriptors,
      /: article\/s1\/a\.db is 4294967296 bytes, the descriptor says 1024$/,
    );
    t.true(read < chunk.length / 4, `read ${read} of ${chunk.length} bytes`);
    t.true(ms < 5000, `${ms} ms`);
    t.true(decoded < 4 * MiB, `decoded ${decoded} bytes`);
  },
);

test.serial(
  'a tiny zstd chunk that goes on decoding past its entry’s declared size fails at the next header',
  async (t) => {
    const { tar, descriptors } = await archive({ 'article/s1/a.db': Buffer.alloc(1024, 0x41) });
    // The entry's header and bytes as declared, then 4 GiB more of the same byte instead of the end blocks.
    const chunk = zstdFrame([tar.subarray(0, 512 + 1024), ...repeated(0x41, 4096)]);
    const { read, ms, decoded } = await refused(t, chunk, descriptors, /: tar header checksum mismatch$/);
    t.true(read < chunk.length / 4, `read ${read} of ${chunk.length} bytes`);
    t.true(ms < 5000, `${ms} ms`);
    t.true(decoded < 4 * MiB, `decoded ${decoded} bytes`);
  },
);
