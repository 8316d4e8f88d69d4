import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startServerProcess } from './process.js';

/** Azurite's well-known development account (public, documented by Microsoft). */
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A running Azure Blob Storage emulator (azurite). */
export interface Azurite {
  /** `http://127.0.0.1:PORT/<account>`: the account's blob endpoint. */
  readonly endpoint: string;
  readonly account: string;
  readonly key: string;
  /** A connection string for the account at this endpoint. */
  readonly connectionString: string;
  /** The environment that points backup-azure at `container` on this server. */
  env(container: string): Record<string, string>;
  stop(): Promise<void>;
}

/** Options of {@link startAzurite}. */
export interface AzuriteOptions {
  /** Containers created at start. */
  readonly containers?: readonly string[];
  /** The one account served, instead of the development account; `key` is base64, as Azure's are. */
  readonly account?: { readonly name: string; readonly key: string };
}

const blobMain = join(dirname(createRequire(import.meta.url).resolve('azurite/package.json')), 'dist/src/blob/main.js');

/**
 * Starts azurite's blob service in its own process on a free port, keeping blobs in a scratch
 * directory. `--skipApiVersionCheck` lets newer clients in (they send an API version azurite does not
 * know yet); `--disableTelemetry` keeps it off the network.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const { name: account, key } = options.account ?? { name: ACCOUNT, key: KEY };
  const server = await startServerProcess({
    name: 'strata-azurite-',
    entry: blobMain,
    args: (directory) => [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--location',
      directory,
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
    ],
    ...(options.account === undefined ? {} : { env: () => ({ AZURITE_ACCOUNTS: `${account}:${key}` }) }),
    ready: /successfully listens on http:\/\/[\d.]+:(\d+)/,
  });
  const endpoint = `${server.endpoint}/${account}`;
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};BlobEndpoint=${endpoint};`;
  const service = BlobServiceClient.fromConnectionString(connectionString);
  for (const container of options.containers ?? []) await service.createContainer(container);
  return {
    endpoint,
    account,
    key,
    connectionString,
    env: (container) => ({ BACKUP_AZURE_CONTAINER: container, AZURE_STORAGE_CONNECTION_STRING: connectionString }),
    stop: () => server.stop(),
  };
}
