import { appendFile, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { type BackupNode, readAll, seed, startBackupNode, waitFor } from '../helpers/backups.js';

/** A node with class Article backed up as `id` (one chunk), then the class deleted. */
async function backedUp(t: ExecutionContext, id: string, compression: string): Promise<BackupNode> {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 500);
  await node.request('POST', '/v1/backups/filesystem', { id, config: { CompressionLevel: compression } });
  t.is((await waitFor(node, `/v1/backups/filesystem/${id}`)).body.status, 'SUCCESS');
  await node.request('DELETE', '/v1/schema/Article');
  return node;
}

/** Restores `id` and expects it to fail with `error`, leaving neither the class nor staging behind. */
async function restoreFails(t: ExecutionContext, node: BackupNode, id: string, error: RegExp) {
  t.is((await node.request('POST', `/v1/backups/filesystem/${id}/restore`, {})).status, 200);
  const status = await waitFor(node, `/v1/backups/filesystem/${id}/restore`);
  t.is(status.body.status, 'FAILED');
  t.regex(status.body.error, error);
  t.is((await node.request('GET', '/v1/schema/Article')).status, 404, 'no class appears');
  t.deepEqual(
    (await readdir(node.dataPath)).filter((name) => name.startsWith('.') || name === 'article'),
    [],
    'nothing is left behind',
  );
}

const chunkOf = (node: BackupNode, id: string) => join(node.backups, id, 'node1', 'Article', 'chunk-1');

test("a byte flipped inside a file fails the restore on the chunk's SHA-256, naming the chunk", async (t) => {
  const node = await backedUp(t, 'flipped', 'NoCompression');
  const chunk = await readFile(chunkOf(node, 'flipped'));
  chunk[1024] = (chunk[1024] as number) ^ 0xff; // inside the first file's data, after its 512-byte tar header
  await writeFile(chunkOf(node, 'flipped'), chunk);
  await restoreFails(
    t,
    node,
    'flipped',
    /^corrupted backup file: flipped\/node1\/Article\/chunk-1: the chunk does not match its checksum \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)$/,
  );
});

test('a truncated compressed chunk fails the restore, naming the chunk', async (t) => {
  const node = await backedUp(t, 'truncated', 'BestSpeed');
  await truncate(chunkOf(node, 'truncated'), 200);
  await restoreFails(
    t,
    node,
    'truncated',
    /^corrupted backup file: truncated\/node1\/Article\/chunk-1: (unexpected end of file|.*truncated.*)$/,
  );
});

test('a byte flipped inside a zstd chunk fails the restore, naming the chunk', async (t) => {
  const node = await backedUp(t, 'flipped-zstd', 'ZstdDefaultCompression');
  const chunk = await readFile(chunkOf(node, 'flipped-zstd'));
  chunk[Math.floor(chunk.length / 2)] = (chunk[Math.floor(chunk.length / 2)] as number) ^ 0xff;
  await writeFile(chunkOf(node, 'flipped-zstd'), chunk);
  await restoreFails(t, node, 'flipped-zstd', /^corrupted backup file: flipped-zstd\/node1\/Article\/chunk-1: .+$/);
});

test('a truncated zstd chunk fails the restore, naming the chunk', async (t) => {
  const node = await backedUp(t, 'truncated-zstd', 'ZstdBestSpeed');
  await truncate(chunkOf(node, 'truncated-zstd'), 200);
  await restoreFails(
    t,
    node,
    'truncated-zstd',
    /^corrupted backup file: truncated-zstd\/node1\/Article\/chunk-1: the zstd stream ends inside a frame$/,
  );
});

test("bytes appended to a chunk fail the restore on the chunk's size", async (t) => {
  const node = await backedUp(t, 'appended', 'DefaultCompression');
  await appendFile(chunkOf(node, 'appended'), Buffer.alloc(10));
  await restoreFails(
    t,
    node,
    'appended',
    /^corrupted backup file: appended\/node1\/Article\/chunk-1: the chunk is longer than the \d+ bytes it should be$/,
  );
});

test('a missing chunk fails the restore, naming it', async (t) => {
  const node = await backedUp(t, 'missing', 'DefaultCompression');
  await rm(chunkOf(node, 'missing'));
  await restoreFails(
    t,
    node,
    'missing',
    /^corrupted backup file: missing\/node1\/Article\/chunk-1: the chunk is missing: object "missing\/node1\/Article\/chunk-1" not found in /,
  );
});

test('a damaged descriptor is refused up front, and the backup restores once it is repaired', async (t) => {
  const node = await backedUp(t, 'damaged', 'DefaultCompression');
  const descriptor = join(node.backups, 'damaged', 'node1', 'backup.json');
  const original = await readFile(descriptor);
  await writeFile(descriptor, original.subarray(0, 100));
  const refused = await node.request('POST', '/v1/backups/filesystem/damaged/restore', {});
  t.is(refused.status, 422);
  t.regex(refused.body.error[0].message, /^corrupted backup file: damaged\/node1\/backup\.json: /);

  await writeFile(descriptor, original);
  await node.request('POST', '/v1/backups/filesystem/damaged/restore', {});
  t.is((await waitFor(node, '/v1/backups/filesystem/damaged/restore')).body.status, 'SUCCESS');
  t.is((await readAll(node, 'Article')).size, 500);
});
