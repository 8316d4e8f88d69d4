/**
 * Child process of the provider benchmarks: loads the provider package in BENCH_MODULE as
 * ENABLE_MODULES does, with the rest of the environment as its variables (defaults for all others),
 * writes one object of BENCH_BYTES bytes to BENCH_KEY from a stream generated on the fly, then reads
 * it back hashing it. Its own process, so its VmHWM is the backend's peak alone. Prints one JSON line:
 * timings, hashes and peak RSS.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { loadModule } from '@strata/testing';
import { peakRss } from './strata-child.js';

const MiB = 1024 * 1024;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

/** `bytes` bytes in 1 MiB chunks, each a fresh buffer, so nothing but what the reader holds stays in memory. */
function generated(bytes: number, hash: ReturnType<typeof createHash>): Readable {
  const block = randomBytes(MiB);
  return Readable.from(
    (function* () {
      for (let offset = 0, i = 0; offset < bytes; offset += MiB, i++) {
        const chunk = Buffer.allocUnsafe(Math.min(MiB, bytes - offset));
        block.copy(chunk, 0, 0, chunk.length);
        chunk.writeUInt32LE(i, 0); // no two chunks alike
        hash.update(chunk);
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
}

const { BENCH_MODULE, BENCH_KEY, BENCH_BYTES, ...variables } = process.env;
const key = required('BENCH_KEY');
const bytes = Number(required('BENCH_BYTES'));
const loaded = await loadModule(required('BENCH_MODULE'), variables as Record<string, string>);
const { backend } = loaded;

const rssAtStart = await peakRss('self');

const sent = createHash('sha256');
let started = performance.now();
const written = await backend.write(key, generated(bytes, sent));
const writeMs = performance.now() - started;
const rssAfterWrite = await peakRss('self');

const received = createHash('sha256');
let read = 0;
started = performance.now();
for await (const chunk of await backend.read(key)) {
  received.update(chunk as Buffer);
  read += (chunk as Buffer).length;
}
const readMs = performance.now() - started;
await loaded.close();

console.log(
  JSON.stringify({
    written,
    read,
    sent: sent.digest('hex'),
    received: received.digest('hex'),
    writeMs,
    readMs,
    rssAtStart,
    rssAfterWrite,
    rssAfterRead: await peakRss('self'),
  }),
);
