import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { readAll, startBackupNode, waitFor } from '../helpers/backups.js';

// Backups written by @strata/core before format 2.0 (format 1.1: a SHA-256 per file and per chunk),
// kept byte for byte as that code wrote them: one class of 60 objects in 2 shards, at three levels.
const fixtures = fileURLToPath(new URL('../../../test/fixtures/backups-format-1.1', import.meta.url));

async function legacyObjects(): Promise<Map<string, Record<string, unknown>>> {
  const objects = JSON.parse(await readFile(join(fixtures, 'objects.json'), 'utf8')) as Record<string, unknown>[];
  return new Map(objects.map((object) => [object.id as string, object]));
}

/** A node whose backup directory holds a copy of the fixtures, for a test to alter at will. */
async function nodeWithFixtures(t: { teardown(fn: () => Promise<void>): void }) {
  const backups = await mkdtemp(join(tmpdir(), 'strata-formats-'));
  t.teardown(() => rm(backups, { recursive: true, force: true }));
  await cp(fixtures, backups, { recursive: true });
  return startBackupNode(t, {}, { backups });
}

for (const level of ['bestspeed', 'zstdbestspeed', 'nocompression']) {
  test(`a format 1.1 backup (${level}) written by an earlier core restores every object`, async (t) => {
    const node = await nodeWithFixtures(t);
    const id = `legacy-${level}`;
    t.is((await node.request('GET', `/v1/backups/filesystem/${id}`)).body.status, 'SUCCESS');
    await node.request('POST', `/v1/backups/filesystem/${id}/restore`, {});
    const restored = await waitFor(node, `/v1/backups/filesystem/${id}/restore`);
    t.is(restored.body.status, 'SUCCESS', restored.body.error);
    t.deepEqual(await readAll(node, 'Legacy'), await legacyObjects());
  });
}

test('a format 1.0 backup, as Strata wrote before zstd, restores every object', async (t) => {
  const node = await nodeWithFixtures(t);
  for (const name of ['backup_config.json', join('node1', 'backup.json')]) {
    const path = join(node.backups, 'legacy-bestspeed', name);
    const descriptor = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...descriptor, version: '1.0' }));
  }
  await node.request('POST', '/v1/backups/filesystem/legacy-bestspeed/restore', {});
  const restored = await waitFor(node, '/v1/backups/filesystem/legacy-bestspeed/restore');
  t.is(restored.body.status, 'SUCCESS', restored.body.error);
  t.deepEqual(await readAll(node, 'Legacy'), await legacyObjects());
});

test("a format 1.1 backup whose file bytes were altered fails on the file's SHA-256 and leaves no class", async (t) => {
  const node = await nodeWithFixtures(t);
  const chunk = join(node.backups, 'legacy-nocompression', 'node1', 'Legacy', 'chunk-1');
  const bytes = await readFile(chunk);
  bytes[512 + 100] ^= 0xff; // inside the first file's content, after its 512-byte tar header
  await writeFile(chunk, bytes);
  await node.request('POST', '/v1/backups/filesystem/legacy-nocompression/restore', {});
  const restored = await waitFor(node, '/v1/backups/filesystem/legacy-nocompression/restore');
  t.is(restored.body.status, 'FAILED');
  t.regex(
    restored.body.error,
    /^corrupted backup file: legacy-nocompression\/node1\/Legacy\/chunk-1: legacy\/[A-Za-z0-9]{12}\/segment-\S+\.db does not match its checksum \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)$/,
  );
  t.is((await node.request('GET', '/v1/schema/Legacy')).status, 404);
});

test('a format 1.1 backup without a SHA-256 for a file is refused before anything is written', async (t) => {
  const node = await nodeWithFixtures(t);
  const path = join(node.backups, 'legacy-bestspeed', 'node1', 'backup.json');
  const descriptor = JSON.parse(await readFile(path, 'utf8'));
  delete descriptor.classes[0].shards[0].files[0].sha256;
  await writeFile(path, JSON.stringify(descriptor));
  const refused = await node.request('POST', '/v1/backups/filesystem/legacy-bestspeed/restore', {});
  t.is(refused.status, 422);
  t.regex(
    refused.body.error[0].message,
    /^corrupted backup file: legacy-bestspeed\/node1\/backup\.json: classes\[0\]\.shards\[0\]\.files\[0\]\.sha256: /,
  );
});
