import zstd from 'zstd-napi/binding.js';

/**
 * zstd for chunks, both ways, with zstd-napi's native binding to libzstd (Node.js 20's zlib has no
 * zstd). Both directions are synchronous calls on the calling thread, a chunk worker running at low
 * priority (chunk-worker.ts): zstd-napi's stream classes would do the same work, but without a bound
 * on the output one call may produce. See docs/backup-format.md, "Chunks".
 */

/**
 * Weaviate's zstd CompressionLevels as libzstd levels. Weaviate (usecases/backup/zip.go) gives them to
 * klauspost/compress as SpeedFastest, SpeedDefault and SpeedBetterCompression, which that library
 * documents as about zstd levels 1, 3 and 7-8.
 */
export const ZSTD_LEVELS = { ZstdBestSpeed: 1, ZstdDefaultCompression: 3, ZstdBestCompression: 7 } as const;

/** One of the keys of {@link ZSTD_LEVELS}. */
export type ZstdLevel = keyof typeof ZSTD_LEVELS;

/** True when `level` is one of Weaviate's zstd CompressionLevels. */
export function isZstdLevel(level: string): level is ZstdLevel {
  return Object.hasOwn(ZSTD_LEVELS, level);
}

/**
 * Compresses `source` as a series of zstd frames of about `frameBytes` of input each, as gzip chunks
 * are a series of members; `zstd -d` and every other zstd reader decompress them as one stream
 * (RFC 8878, section 3.1). One compression context serves every frame. Each frame records its
 * content size, so a decoder allocates no more than that, and an XXH64 checksum of its content, so
 * `zstd -t` checks a chunk by hand. Matches cannot reach into the previous frame: against one frame
 * per chunk, MiB frames of JavaScript sources came out 3% larger at level 1, 9% at 3, 12% at 7.
 */
export async function* zstdFrames(
  source: AsyncIterable<Uint8Array>,
  level: ZstdLevel,
  frameBytes: number,
): AsyncIterable<Buffer> {
  const context = new zstd.CCtx();
  context.setParameter(zstd.CParameter.compressionLevel, ZSTD_LEVELS[level]);
  context.setParameter(zstd.CParameter.checksumFlag, 1);
  let scratch = Buffer.alloc(0);
  const frame = (input: Buffer): Buffer => {
    const bound = zstd.compressBound(input.length);
    if (scratch.length < bound) scratch = Buffer.allocUnsafe(bound);
    // Copied out at its own size: the scratch buffer serves the next frame.
    return Buffer.from(scratch.subarray(0, context.compress2(scratch, input)));
  };
  let pending: Uint8Array[] = [];
  let bytes = 0;
  for await (const piece of source) {
    pending.push(piece);
    bytes += piece.length;
    if (bytes < frameBytes) continue;
    yield frame(Buffer.concat(pending, bytes));
    pending = [];
    bytes = 0;
  }
  if (bytes > 0) yield frame(Buffer.concat(pending, bytes));
}

/**
 * Largest window, as a power of two, that a frame may make the decoder allocate: 8 MiB. Strata's frames
 * need at most 2 MiB; 8 MiB also reads what `zstd -19` writes, and a hostile frame asking for more
 * is refused before anything is allocated for it.
 */
const WINDOW_LOG_MAX = 23;

/** Decompressed bytes one step may produce. */
const OUTPUT_BYTES = 256 * 1024;

/**
 * The decompressed bytes of the zstd stream `source`, produced one step of at most
 * {@link OUTPUT_BYTES} at a time and only as the consumer asks for them: however far a stream would
 * expand, no more is decompressed than the consumer reads (tar.ts stops at what follows the end of
 * the archive). A stream that is not zstd, is damaged, or ends inside a frame fails with libzstd's
 * reason; the caller names the chunk.
 */
export async function* zstdDecompressed(source: AsyncIterable<Uint8Array>): AsyncIterable<Buffer> {
  const context = new zstd.DCtx();
  context.setParameter(zstd.DParameter.windowLogMax, WINDOW_LOG_MAX);
  let inFrame = false;
  let output = Buffer.allocUnsafe(OUTPUT_BYTES);
  for await (const piece of source) {
    let input = piece;
    for (;;) {
      const [remaining, produced, consumed] = context.decompressStream(output, input);
      input = input.subarray(consumed);
      // libzstd returns 0 exactly when a frame is decoded and flushed whole.
      inFrame = remaining !== 0;
      if (produced > 0) {
        yield output.subarray(0, produced);
        output = Buffer.allocUnsafe(OUTPUT_BYTES);
      }
      // A full output may leave decoded bytes inside the context: go on until it has none.
      if (input.length === 0 && produced < OUTPUT_BYTES) break;
    }
  }
  if (inFrame) throw new Error('the zstd stream ends inside a frame');
}
