import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { holdChunks, seed, startBackupNode, waitFor } from '../helpers/backups.js';
import type { Reply } from '../helpers/node.js';

const message = (reply: Reply) => [reply.status, reply.body?.error?.[0]?.message];

test('a backup request is checked with Weaviate rules, messages and status codes', async (t) => {
  const node = await startBackupNode(t);
  const create = (body: unknown, backend = 'filesystem') => node.request('POST', `/v1/backups/${backend}`, body);

  t.deepEqual(message(await create({ id: 'empty' })), [
    422,
    "no available classes to backup, there's nothing to do here",
  ]);
  await seed(node, 'Article', 3);
  await seed(node, 'Author', 3);

  t.deepEqual(message(await create({ id: 'x' }, 's3')), [
    422,
    'no backup backend "s3": backup: s3 not found, did you enable the right module?',
  ]);
  t.deepEqual(message(await create({ id: 'Bad.Id' })), [
    422,
    "invalid backup id: 'Bad.Id' allowed characters are lowercase, 0-9, _, -",
  ]);
  t.deepEqual(message(await create({})), [422, "invalid backup id: '' allowed characters are lowercase, 0-9, _, -"]);
  t.deepEqual(message(await create({ id: 'x', include: ['Article'], exclude: ['Author'] })), [
    422,
    "malformed request: 'include' and 'exclude' cannot both contain values",
  ]);
  t.deepEqual(message(await create({ id: 'x', include: ['Article', 'Article'] })), [
    422,
    "class list 'include' contains duplicate: Article",
  ]);
  t.deepEqual(message(await create({ id: 'x', include: ['Nope'] })), [422, "class Nope doesn't exist"]);
  t.deepEqual(
    message(await create({ id: 'x', include: ['not-existing-class'] })),
    [422, "class not-existing-class doesn't exist"],
    'the name is quoted as given, not capitalised',
  );
  t.deepEqual(message(await create({ id: 'x', incremental_base_backup_id: 'nightly-1' })), [
    422,
    'incremental backups are not supported: Strata takes full backups only; leave out incremental_base_backup_id (given: "nightly-1") for a full backup',
  ]);
  const wrongBase = await create({ id: 'x', incremental_base_backup_id: 7 });
  t.deepEqual(
    [wrongBase.status, wrongBase.body.message],
    [422, 'incremental_base_backup_id in body must be of type string'],
  );
  t.deepEqual(message(await create({ id: 'x', exclude: ['A*'] })), [
    422,
    'empty class list: please choose from : [Article Author]',
  ]);

  const tooMuchCpu = await create({ id: 'x', config: { CPUPercentage: 120 } });
  t.deepEqual(
    [tooMuchCpu.status, tooMuchCpu.body],
    [422, { code: 608, message: 'config.CPUPercentage in body should be less than or equal to 80' }],
  );
  const tooLittleCpu = await create({ id: 'x', config: { CPUPercentage: -1 } });
  t.deepEqual([tooLittleCpu.status, tooLittleCpu.body.code], [422, 609]);
  const badLevel = await create({ id: 'x', config: { CompressionLevel: 'Fastest' } });
  t.is(badLevel.status, 422);
  t.is(badLevel.body.code, 606);
  t.regex(badLevel.body.message, /^config\.CompressionLevel in body should be one of \[DefaultCompression BestSpeed/);
  const badChunkSize = await create({ id: 'x', config: { ChunkSize: 'big' } });
  t.deepEqual(
    [badChunkSize.status, badChunkSize.body],
    [422, { code: 601, message: 'config.ChunkSize in body must be of type integer: "big"' }],
  );
  t.is((await node.request('GET', '/v1/backups/filesystem')).body.length, 0, 'no refused request left a trace');

  // Weaviate refused ChunkSize outside 2-512 up to 1.34; 1.35, the version Strata claims, ignores it.
  for (const [id, ChunkSize] of [
    ['chunk-size-1', 1],
    ['chunk-size-4096', 4096],
  ] as const) {
    t.is((await create({ id, config: { ChunkSize } })).status, 200, `ChunkSize ${ChunkSize} is accepted`);
    t.is((await waitFor(node, `/v1/backups/filesystem/${id}`)).body.status, 'SUCCESS');
  }

  const accepted = await create({ id: 'zero-cpu', config: { CPUPercentage: 0, CompressionLevel: 'NoCompression' } });
  t.is(accepted.status, 200, 'CPUPercentage 0 means the default, as in Weaviate');
  t.is((await waitFor(node, '/v1/backups/filesystem/zero-cpu')).body.status, 'SUCCESS');
  t.deepEqual(message(await create({ id: 'zero-cpu' })), [
    422,
    `backup "zero-cpu" already exists at "${node.backups}/zero-cpu"`,
  ]);
});

test("Weaviate's zstd CompressionLevels are accepted, and the backup records compressionType zstd", async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 20);
  for (const level of ['ZstdBestSpeed', 'ZstdDefaultCompression', 'ZstdBestCompression']) {
    const id = level.toLowerCase();
    const created = await node.request('POST', '/v1/backups/filesystem', { id, config: { CompressionLevel: level } });
    t.deepEqual([created.status, created.body.status], [200, 'STARTED'], level);
    t.is((await waitFor(node, `/v1/backups/filesystem/${id}`)).body.status, 'SUCCESS', level);
    for (const descriptor of ['backup_config.json', 'node1/backup.json']) {
      t.like(JSON.parse(await readFile(join(node.backups, id, descriptor), 'utf8')), {
        version: '2.0',
        compressionType: 'zstd',
      });
    }
  }
});

test('one backup or restore at a time; a canceled backup ends CANCELED, cleans up, and its id can be reused', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Held', 50);
  const hold = holdChunks(node, 'write');
  t.is((await node.request('POST', '/v1/backups/filesystem', { id: 'held' })).status, 200);
  await hold.reached;
  const running = await node.request('GET', '/v1/backups/filesystem/held');
  t.is(running.body.status, 'TRANSFERRING');
  t.true(running.body.progress.totalBytes > 0);
  t.is(running.body.progress.doneBytes, 0);

  t.deepEqual(message(await node.request('POST', '/v1/backups/filesystem', { id: 'other' })), [
    422,
    'backup held already in progress',
  ]);
  t.deepEqual(message(await node.request('POST', '/v1/backups/filesystem/held/restore', {})), [
    422,
    'invalid backup in scheduler held status: TRANSFERRING',
  ]);

  t.is((await node.request('DELETE', '/v1/backups/filesystem/held')).status, 204);
  const canceled = await waitFor(node, '/v1/backups/filesystem/held');
  t.like(canceled.body, { status: 'CANCELED', error: 'backup canceled by user' });
  t.deepEqual(
    await readdir(`${node.backups}/held`, { recursive: true }),
    ['backup_config.json'],
    'uploaded chunks were deleted',
  );
  t.false((await readdir(node.dataPath)).includes('.backup-staging'), 'staging was removed');
  t.is((await node.request('DELETE', '/v1/backups/filesystem/held')).status, 204, 'canceling again is a no-op');
  hold.unhold();

  t.is(
    (await node.request('POST', '/v1/backups/filesystem', { id: 'held' })).status,
    200,
    'a CANCELED id can be reused',
  );
  t.is((await waitFor(node, '/v1/backups/filesystem/held')).body.status, 'SUCCESS');
  t.deepEqual(message(await node.request('DELETE', '/v1/backups/filesystem/held')), [
    422,
    'backup "held" already succeeded',
  ]);
});

test('a canceled zstd backup ends CANCELED and leaves only its backup_config.json behind', async (t) => {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '16KiB' });
  await seed(node, 'Held', 2000, 2);
  const hold = holdChunks(node, 'write');
  const created = await node.request('POST', '/v1/backups/filesystem', {
    id: 'held-zstd',
    config: { CompressionLevel: 'ZstdBestCompression' },
  });
  t.is(created.status, 200);
  await hold.reached;
  t.is((await node.request('DELETE', '/v1/backups/filesystem/held-zstd')).status, 204);
  t.like((await waitFor(node, '/v1/backups/filesystem/held-zstd')).body, {
    status: 'CANCELED',
    error: 'backup canceled by user',
  });
  t.deepEqual(await readdir(join(node.backups, 'held-zstd'), { recursive: true }), ['backup_config.json']);
  t.deepEqual(
    (await readdir(node.dataPath)).filter((name) => name.startsWith('.')),
    [],
    'staging was removed',
  );
});

test('a restore request is checked up front: missing, unfinished, unknown class, class already here', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 5);
  await seed(node, 'Author', 5);
  await node.request('POST', '/v1/backups/filesystem', { id: 'both' });
  await waitFor(node, '/v1/backups/filesystem/both');
  const restore = (id: string, body: unknown) => node.request('POST', `/v1/backups/filesystem/${id}/restore`, body);

  t.deepEqual(message(await restore('missing', {})), [
    404,
    `backup id "missing" does not exist: metadata not found: ${node.backups}/missing/backup_config.json`,
  ]);
  t.deepEqual(message(await node.request('GET', '/v1/backups/filesystem/missing')), [
    404,
    `backup id "missing" does not exist: metadata not found: ${node.backups}/missing/backup_config.json`,
  ]);
  t.deepEqual(message(await node.request('GET', '/v1/backups/filesystem/both/restore')), [
    404,
    `backup id "both" does not exist: metadata not found: ${node.backups}/both/restore_config.json`,
  ]);
  t.deepEqual(message(await restore('both', { include: ['Article'], exclude: ['Author'] })), [
    422,
    "malformed request: 'include' and 'exclude' cannot both contain values",
  ]);
  t.deepEqual(message(await restore('both', { include: ['Article', 'Article'] })), [
    422,
    "class list 'include' contains duplicate: Article",
  ]);
  t.deepEqual(message(await restore('both', { include: ['Book'] })), [
    422,
    "class Book doesn't exist in the backup, but does have [Article Author]",
  ]);
  t.deepEqual(message(await restore('both', { include: ['book'] })), [
    422,
    "class book doesn't exist in the backup, but does have [Article Author]",
  ]);
  t.deepEqual(message(await restore('both', { exclude: ['*'] })), [
    422,
    'nothing left to restore: please choose from : [Article Author]',
  ]);

  t.deepEqual(message(await restore('both', {})), [
    422,
    "cannot restore classes Article, Author: already exist on this node; delete them first (DELETE /v1/schema/<class>) or leave them out with 'exclude'",
  ]);
  await node.request('DELETE', '/v1/schema/Author');
  t.deepEqual(message(await restore('both', { include: ['Article'] })), [
    422,
    "cannot restore class Article: already exists on this node; delete it first (DELETE /v1/schema/<class>) or leave it out with 'exclude'",
  ]);
  const refusedStatus = await node.request('GET', '/v1/backups/filesystem/both/restore');
  t.is(refusedStatus.status, 404, 'a refused restore is not recorded');

  const partial = await restore('both', { exclude: ['Article'] });
  t.deepEqual([partial.status, partial.body.classes], [200, ['Author']]);
  t.is((await waitFor(node, '/v1/backups/filesystem/both/restore')).body.status, 'SUCCESS');
});

test('a canceled restore ends CANCELED and leaves no class and no staging behind', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 50);
  await node.request('POST', '/v1/backups/filesystem', { id: 'undone' });
  await waitFor(node, '/v1/backups/filesystem/undone');
  await node.request('DELETE', '/v1/schema/Article');
  const hold = holdChunks(node, 'read');
  await node.request('POST', '/v1/backups/filesystem/undone/restore', {});
  await hold.reached;
  await seed(node, 'Other', 1);
  t.deepEqual(message(await node.request('POST', '/v1/backups/filesystem', { id: 'other' })), [
    422,
    'restoration undone already in progress',
  ]);
  t.is((await node.request('DELETE', '/v1/backups/filesystem/undone/restore')).status, 204);
  t.like((await waitFor(node, '/v1/backups/filesystem/undone/restore')).body, {
    status: 'CANCELED',
    error: 'restore canceled by user',
  });
  t.is((await node.request('GET', '/v1/schema/Article')).status, 404);
  t.false(
    (await readdir(node.dataPath)).some((name) => name.startsWith('.')),
    'staging was removed',
  );

  hold.unhold();
  await node.request('POST', '/v1/backups/filesystem/undone/restore', {});
  t.is((await waitFor(node, '/v1/backups/filesystem/undone/restore')).body.status, 'SUCCESS');
  t.deepEqual(message(await node.request('DELETE', '/v1/backups/filesystem/undone/restore')), [
    422,
    'restore "undone" already succeeded',
  ]);
});
