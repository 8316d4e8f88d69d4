import zstd from 'zstd-napi/binding.js';

/** Streams for tests of what a restore does with zstd chunks, made with libzstd directly. */

const MiB = 1024 * 1024;

/**
 * One zstd frame of `pieces`, streamed through libzstd, so it can stand for gigabytes. `windowLog`
 * sets the window its header declares, as `zstd --long=N` does.
 */
export function zstdFrame(pieces: Iterable<Uint8Array>, options: { windowLog?: number } = {}): Buffer {
  const context = new zstd.CCtx();
  context.setParameter(zstd.CParameter.compressionLevel, 1);
  if (options.windowLog !== undefined) context.setParameter(zstd.CParameter.windowLog, options.windowLog);
  const output = Buffer.alloc(zstd.cStreamOutSize());
  const parts: Buffer[] = [];
  const step = (input: Uint8Array, directive: zstd.EndDirective) => {
    for (;;) {
      const [remaining, produced, consumed] = context.compressStream2(output, input, directive);
      parts.push(Buffer.from(output.subarray(0, produced)));
      input = input.subarray(consumed);
      if (input.length === 0 && (directive !== zstd.EndDirective.end || remaining === 0)) return;
    }
  };
  for (const piece of pieces) step(piece, zstd.EndDirective.continue);
  step(new Uint8Array(0), zstd.EndDirective.end);
  return Buffer.concat(parts);
}

/** `count` pieces of a MiB of `byte`, made lazily (4096 of them are a 4 GiB stream). */
export function* repeated(byte: number, count: number): Iterable<Buffer> {
  const piece = Buffer.alloc(MiB, byte);
  for (let i = 0; i < count; i++) yield piece;
}
