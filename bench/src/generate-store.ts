/**
 * The store the backup benchmarks back up: one class, `Bench`, of ~4.5 KiB objects (text that
 * compresses about 3:1 plus incompressible bytes), written through an in-process node so its files
 * are what a real node writes.
 */
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, StrataNode } from '@strata/core/node';

/** The generated class's name; its files are under `<data path>/bench`. */
export const BENCH_CLASS = 'Bench';

const words = Array.from({ length: 2000 }, (_, i) => `w${(i * 7919).toString(36)}`);
function object(i: number) {
  const body = Array.from({ length: 450 }, (_, j) => words[(i * 31 + j * j) % words.length]).join(' ');
  return {
    class: BENCH_CLASS,
    properties: { title: `Object ${i}`, rank: i, body, blob: randomBytes(768).toString('base64') },
    vector: Array.from({ length: 32 }, (_, j) => ((i + j) % 97) / 97),
  };
}

/**
 * Fills `dataPath` with a `Bench` class of `shards` shards holding about `gib` GiB of objects (as
 * JSON), then stops the node so every file is closed before anyone copies it.
 */
export async function generateStore(dataPath: string, gib: number, shards: number): Promise<void> {
  const node = await StrataNode.start({
    env: { PERSISTENCE_DATA_PATH: dataPath },
    port: 0,
    logger: createLogger('silent'),
  });
  await node.db.createClass({
    class: BENCH_CLASS,
    properties: [
      { name: 'title', dataType: ['text'] },
      { name: 'rank', dataType: ['int'] },
      { name: 'body', dataType: ['text'] },
      { name: 'blob', dataType: ['text'] },
    ],
    shardingConfig: { desiredCount: shards },
  });
  const target = gib * 1024 ** 3;
  let written = 0;
  for (let i = 0; written < target; i += 1000) {
    const batch = Array.from({ length: 1000 }, (_, j) => object(i + j));
    await node.db.batchObjects(batch);
    written += batch.reduce((sum, o) => sum + JSON.stringify(o).length, 0);
    if (i % 50_000 === 0) process.stderr.write(`\r  generating: ${(written / 1024 ** 3).toFixed(2)} of ${gib} GiB`);
  }
  process.stderr.write('\n');
  await node.stop();
}

/** Total bytes and count of the regular files under `dir`, recursively. */
export async function sizeOf(dir: string, only: (name: string) => boolean = () => true) {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !only(entry.name)) continue;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
    files++;
  }
  return { bytes, files };
}
