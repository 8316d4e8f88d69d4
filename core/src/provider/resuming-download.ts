import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link resumingDownload}. */
export interface ResumingDownloadOptions {
  /** The object's size, from the first response; fewer bytes than this is a broken download. */
  readonly size: number;
  /** Opens the object again from byte `offset` (a ranged GET pinned to the same version). */
  readonly reopen: (offset: number) => Promise<AsyncIterable<Uint8Array>>;
  /** How many times in a row a download may be resumed without receiving a byte in between. */
  readonly maxAttempts: number;
  /** Stops waiting between attempts. */
  readonly signal?: AbortSignal | undefined;
  /**
   * True for an error after which the download is resumed: the connection broke or stalled. A body
   * that ends early counts as one (its error has code `ERR_STREAM_PREMATURE_CLOSE`).
   */
  readonly isResumable: (error: unknown) => boolean;
}

/** A connection that ended before the object did, reported like a reset so that it is resumed. */
class TruncatedError extends Error {
  readonly code = 'ERR_STREAM_PREMATURE_CLOSE';
}

/**
 * The bytes of an object, downloaded over as many connections as it takes: when a connection resets,
 * stalls past the request timeout, or ends early, the download continues from the last byte received
 * instead of failing a restore hours in. Gives up after `maxAttempts` resumptions without progress.
 * For a provider's `read()`: `reopen` should pin the object's version (an ETag, a generation), so a
 * resumed download never mixes two versions.
 */
export async function* resumingDownload(
  first: AsyncIterable<Uint8Array>,
  options: ResumingDownloadOptions,
): AsyncGenerator<Uint8Array> {
  let body = first;
  let offset = 0;
  let failures = 0;
  for (;;) {
    try {
      for await (const chunk of body) {
        offset += chunk.length;
        failures = 0;
        yield chunk;
      }
      if (offset >= options.size) return;
      throw new TruncatedError(`the connection ended after ${offset} of ${options.size} bytes`);
    } catch (error) {
      options.signal?.throwIfAborted();
      if (!options.isResumable(error) || ++failures >= options.maxAttempts) throw error;
      await sleep(Math.min(5000, 100 * 2 ** failures) * (0.5 + Math.random() / 2), undefined, {
        signal: options.signal,
      });
      body = await options.reopen(offset);
    }
  }
}
