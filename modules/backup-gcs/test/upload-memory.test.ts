import 'reflect-metadata';
import { Readable } from 'node:stream';
import { startFaultProxy, startGcsEmulator } from '@strata/testing';
import test from 'ava';
import { loadGcs } from './helpers.js';

const MiB = 1024 * 1024;

test('an upload reads its source at most two chunks ahead of what it has sent', async (t) => {
  const emulator = await startGcsEmulator({ buckets: ['ahead'] });
  t.teardown(() => emulator.stop());
  // Each chunk request is held briefly, so a source not held back would run far ahead.
  const proxy = await startFaultProxy(emulator.endpoint);
  t.teardown(() => proxy.stop());
  let produced = 0;
  let worst = 0;
  let chunkRequests = 0;
  proxy.setPlan(({ method, url }) => {
    if (method !== 'PUT' || !url.includes('upload_id=')) return undefined;
    // The n-th chunk request starts at (n - 1) chunks sent.
    worst = Math.max(worst, produced - chunkRequests++ * 8 * MiB);
    return { kind: 'stall', ms: 150 };
  });
  const { backend, close } = await loadGcs({ ...emulator.env('ahead'), STORAGE_EMULATOR_HOST: proxy.endpoint });
  t.teardown(close);
  const size = 160 * MiB;
  const source = Readable.from(
    (function* () {
      for (; produced < size; produced += MiB) yield Buffer.alloc(MiB, produced / MiB);
    })(),
  );
  t.is(await backend.write('large', source), size);
  t.true(chunkRequests >= 20, `${chunkRequests} chunk requests`);
  // Two chunks unsent and the chunk being cut (22 MiB measured; 31 without the limit, and growing
  // with the object when the server is slower than the source).
  t.true(worst <= 26 * MiB, `the source ran ${worst / MiB} MiB ahead`);
});
