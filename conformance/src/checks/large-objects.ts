import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ConformanceAssertions, ConformanceTest, SuiteRun } from '../harness.js';
import { randomName } from '../harness.js';

const MiB = 1024 * 1024;
/** Over 64 MiB, and not a whole number of any part size, so multipart uploads end on a short part. */
const LARGE_BYTES = 80 * MiB + 12_345;
/** The most of the object the backend may hold in memory at once, on writes and on reads. */
const MEMORY_BOUND = LARGE_BYTES / 2;
const PIECE = 256 * 1024;

/** The object's bytes, made piece by piece (each piece numbered, so reordered parts show). */
function largeSource(): { stream: Readable; digest: () => string } {
  const base = randomBytes(PIECE);
  const hash = createHash('sha256');
  const stream = Readable.from(
    (function* () {
      for (let offset = 0, index = 0; offset < LARGE_BYTES; offset += PIECE, index++) {
        const piece = Buffer.from(base.subarray(0, Math.min(PIECE, LARGE_BYTES - offset)));
        piece.writeUInt32BE(index, 0);
        hash.update(piece);
        yield piece;
      }
    })(),
  );
  return { stream, digest: () => hash.digest('hex') };
}

/** A full garbage collection, so what is measured is memory still in use; made available on first use. */
let gc: (() => void) | undefined;
function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** Runs `work` while sampling the buffers in use; resolves with the peak growth over the start. */
async function peakBufferGrowth(work: () => Promise<void>): Promise<number> {
  collectGarbage();
  const start = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const sample = () => {
    collectGarbage();
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - start);
  };
  const timer = setInterval(sample, 100);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return peak;
}

function assertBounded(t: ConformanceAssertions, what: string, growth: number): void {
  t.true(
    growth <= MEMORY_BOUND,
    `${what} held ${(growth / MiB).toFixed(0)} MiB of an ${(LARGE_BYTES / MiB).toFixed(0)} MiB object in memory ` +
      `at once (at most ${(MEMORY_BOUND / MiB).toFixed(0)} MiB allowed): stream it in parts instead of buffering it`,
  );
}

/**
 * An object over 64 MiB goes in and comes out byte for byte, streamed both ways. Unless the storage
 * itself lives in memory (`inMemory`), neither direction may hold half of it in memory at once.
 */
export function largeObjectChecks(test: ConformanceTest, run: SuiteRun, measureMemory: boolean): void {
  const title = `${run.label} an object over 64 MiB round-trips byte for byte${measureMemory ? ', in bounded memory both ways' : ''}`;
  // Alone when measuring: buffers of checks running alongside would count against this one.
  const declare = measureMemory && test.serial !== undefined ? test.serial : test;
  declare(title, async (t) => {
    const s = await run.open(t);
    const key = randomName('large');
    const source = largeSource();
    let written = 0;
    const writeGrowth = await peakBufferGrowth(async () => {
      written = await s.backend.write(key, source.stream, s.options);
    });
    t.is(written, LARGE_BYTES, `write() must resolve with the bytes written (${LARGE_BYTES}), got ${written}`);

    const hash = createHash('sha256');
    let read = 0;
    const readGrowth = await peakBufferGrowth(async () => {
      for await (const piece of await s.backend.read(key, s.options)) {
        hash.update(piece as Buffer);
        read += (piece as Buffer).length;
      }
    });
    t.is(read, LARGE_BYTES, `read() streamed ${read} bytes of a ${LARGE_BYTES}-byte object`);
    t.is(hash.digest('hex'), source.digest(), 'read() returned other bytes than were written (SHA-256 differs)');
    if (measureMemory) {
      assertBounded(t, 'write()', writeGrowth);
      assertBounded(t, 'read()', readGrowth);
    }
    await s.backend.delete(key, s.options);
    await s.finish();
  });
}
