/**
 * strata-backup-azure: stores Strata backups in Azure Blob Storage.
 *
 * A third-party provider, written only against `@strata/core`'s published surface. Install it beside
 * Strata (`npm install strata-backup-azure`), enable it with `ENABLE_MODULES=backup-azure` (the
 * `strata-` package prefix is the third-party naming convention), and set `BACKUP_AZURE_CONTAINER`
 * and credentials. Backups land in `<container>/<BACKUP_AZURE_PATH>/<backup id>/`. The variables are
 * Weaviate's; README.md lists them.
 *
 * @packageDocumentation
 */
import { BACKUP_BACKEND, ConfigValueError, defineBackupModule, MODULE_API_VERSION, parsers } from '@strata/core';
import { AzureBackend } from './azure-backend.js';
import { createServiceClient } from './client.js';

export { AzureBackend, type AzureBackendOptions } from './azure-backend.js';
export { type ClientConfig, createServiceClient, type ServiceClient } from './client.js';

const MiB = 1024 * 1024;

/** Azure takes blocks of up to 4000 MiB. */
function blockSize(raw: string): number {
  const bytes = parsers.byteSize(raw);
  if (bytes > 4000 * MiB) throw new ConfigValueError({ expected: 'at most 4000MiB, the largest block Azure takes' });
  return bytes;
}

export default defineBackupModule({
  name: 'backup-azure',
  altNames: ['azure'],
  apiVersion: MODULE_API_VERSION,
  capabilities: { external: true, pathScope: 'prefix' },
  config: {
    container: {
      name: 'BACKUP_AZURE_CONTAINER',
      required: true,
      description: 'The container backups are written to; it must exist.',
    },
    path: {
      name: 'BACKUP_AZURE_PATH',
      default: '',
      description: 'Blob name prefix inside the container; none by default.',
    },
    connectionString: {
      name: 'AZURE_STORAGE_CONNECTION_STRING',
      secret: true,
      description: 'A storage account connection string; used before AZURE_STORAGE_ACCOUNT when both are set.',
    },
    account: {
      name: 'AZURE_STORAGE_ACCOUNT',
      description: 'The storage account, when no connection string is set.',
    },
    key: {
      name: 'AZURE_STORAGE_KEY',
      secret: true,
      description: "The account's access key; unset, requests go out anonymous (a public container).",
    },
    blockSize: {
      name: 'AZURE_BLOCK_SIZE',
      // Weaviate's default is 40MiB, but the SDK's uploadStream holds several blocks at once (an 80 MiB
      // object peaked at 115 MiB with 40MiB blocks, 41 MiB with 8MiB): 4MiB keeps an upload small,
      // and 50,000 blocks of it still make 195GiB.
      default: 4 * MiB,
      parse: blockSize,
      description:
        'Bytes per block of an upload (Azure allows up to 4000MiB); an upload holds one per AZURE_CONCURRENCY, plus one.',
    },
    concurrency: {
      name: 'AZURE_CONCURRENCY',
      default: 1,
      parse: parsers.integer({ min: 1, max: 64 }),
      description: 'Blocks of one upload sent at once.',
    },
  },
  meta: (config) => ({
    container: config.container,
    path: config.path,
    account: config.account ?? null,
  }),
  register({ container, config }) {
    const client = createServiceClient(config);
    const backend = new AzureBackend({
      ...client,
      container: config.container,
      path: config.path,
      blockSize: config.blockSize,
      concurrency: config.concurrency,
    });
    container.register(BACKUP_BACKEND, { useValue: backend });
  },
});
