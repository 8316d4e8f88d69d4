import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { backupDropRestore, readAll, seedClass, startAzurite, startTestNode } from '@strata/testing';
import test from 'ava';

const moduleDir = fileURLToPath(new URL('../../', import.meta.url));

test('a node with ENABLE_MODULES=backup-azure backs up to a container and restores every object', async (t) => {
  const azurite = await startAzurite({ containers: ['backups'] });
  t.teardown(() => azurite.stop());
  const node = await startTestNode(t, {
    ENABLE_MODULES: moduleDir,
    ...azurite.env('backups'),
    BACKUP_AZURE_PATH: 'strata',
    BACKUP_CHUNK_TARGET_SIZE: '64KiB',
  });
  const objects = await seedClass(node, 'Article', 2000, { shards: 2, padding: 100 });
  const { backup, restore } = await backupDropRestore(node, 'azure', 'azure-1', 'Article');
  t.is(backup.status, 'SUCCESS', backup.error);
  t.is(backup.path, `${azurite.endpoint}/backups/strata/azure-1`);
  t.is(restore?.status, 'SUCCESS', restore?.error);
  t.deepEqual(await readAll(node, 'Article'), objects);

  // Listed by Azure's own client: the layout docs/backup-format.md describes, under the path.
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('backups');
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: 'strata/azure-1/' })) names.push(blob.name);
  t.true(names.includes('strata/azure-1/backup_config.json'));
  t.true(names.includes('strata/azure-1/node1/backup.json'));
  t.true(names.filter((name) => /^strata\/azure-1\/node1\/Article\/chunk-\d+$/.test(name)).length >= 2);
});
