import type { Readable } from 'node:stream';

/**
 * Yields `source`'s chunks, destroying it with an `ETIMEDOUT` error when it stays silent for `ms`
 * while the consumer waits. The client library times out a download only until its first byte; a
 * connection that stalls later would otherwise hang the restore.
 */
export async function* failWhenSilent(source: Readable, ms: number): AsyncGenerator<Uint8Array> {
  const arm = () =>
    setTimeout(() => {
      source.destroy(Object.assign(new Error(`no data for ${ms / 1000} s`), { code: 'ETIMEDOUT' }));
    }, ms);
  let timer = arm();
  try {
    for await (const chunk of source) {
      // Time spent by a slow consumer is not silence.
      clearTimeout(timer);
      yield chunk as Uint8Array;
      timer = arm();
    }
  } finally {
    clearTimeout(timer);
  }
}
