import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { LsmStore } from '../../src/store/index.js';
import { putValue } from './fixtures/crash-values.js';

const writer = fileURLToPath(new URL('./fixtures/crash-writer.js', import.meta.url));

/** Runs the writer until it has reported `acks` acknowledged writes (at least), then SIGKILLs it. */
async function writeThenKill(dir: string, policy: string, start: number, acks: number) {
  const child = spawn(process.execPath, [writer, dir, policy, String(start)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const puts: number[] = [];
  const batches: number[] = [];
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    child.on('exit', () => resolve());
    child.on('error', reject);
    child.stdout.on('data', (data: Buffer) => {
      buffered += data.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, n] = line.split(' ');
        (kind === 'p' ? puts : batches).push(Number(n));
      }
      if (puts.length >= acks && child.exitCode === null) child.kill('SIGKILL');
    });
  });
  return { puts, batches };
}

for (const policy of ['interval', 'always', 'flush']) {
  test(`after SIGKILL mid-write (sync ${policy}), every acknowledged write is there and every batch is whole`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-crash-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    let start = 0;
    const acked = new Map<string, number>();
    const ackedBatches = new Set<number>();
    // Several crashes into the same directory, each at a different point (flushes and compactions
    // run all the time with a 256 KiB memtable).
    for (const acks of [1500, 4000, 2500, 6000]) {
      const { puts, batches } = await writeThenKill(dir, policy, start, acks);
      for (const i of puts) acked.set(`k${i % 3000}`, i);
      for (const b of batches) ackedBatches.add(b);
      start = Math.max(...puts) + 2; // the killed writer may have written one more

      const store = await LsmStore.open(dir);
      const objects = store.bucket('objects');
      for (const [key, i] of acked) {
        const value = (await objects.get(key))?.toString();
        t.truthy(value, `${key} (acknowledged as put ${i}) is missing after the crash`);
        const written = Number(/^v(\d+):x*:end$/.exec(value ?? '')?.[1]);
        t.true(
          written >= i && putValue(written) === value,
          `${key} holds ${value?.slice(0, 20)}…, older than acknowledged put ${i} or torn`,
        );
      }
      const batchKeys = new Map<string, number>();
      for await (const { key, value } of store.bucket('batches').scan()) {
        const batch = key.toString().split('-')[0] as string;
        batchKeys.set(batch, (batchKeys.get(batch) ?? 0) + 1);
        t.is(`b${value}`, batch);
      }
      for (const [batch, count] of batchKeys) t.is(count, 8, `batch ${batch} is partly there (${count} of 8 keys)`);
      for (const b of ackedBatches) t.is(batchKeys.get(`b${b}`), 8, `acknowledged batch ${b} is missing`);
      await store.close();
    }
  });
}
