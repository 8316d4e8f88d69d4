import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AzureNoCredentialsError } from './errors.js';

/** The variables {@link createServiceClient} reads, as the module's configuration parsed them. */
export interface ClientConfig {
  readonly connectionString?: string | undefined;
  readonly account?: string | undefined;
  readonly key?: string | undefined;
}

/** A client for the account's blob service, and how it signs requests, in words. */
export interface ServiceClient {
  readonly service: BlobServiceClient;
  /** The blob service URL, without a trailing `/`: where backups' homes start. */
  readonly serviceUrl: string;
  readonly credentials: string;
}

/**
 * Builds the client the way Weaviate's backup-azure does: a connection string wins; otherwise the
 * account's public endpoint, signed with AZURE_STORAGE_KEY when set and anonymous when not (a public
 * container).
 * @throws AzureNoCredentialsError when neither a connection string nor an account is set.
 */
export function createServiceClient(config: ClientConfig): ServiceClient {
  if (config.connectionString !== undefined) {
    const service = BlobServiceClient.fromConnectionString(config.connectionString);
    return { service, serviceUrl: service.url.replace(/\/+$/, ''), credentials: 'AZURE_STORAGE_CONNECTION_STRING' };
  }
  if (config.account === undefined) throw new AzureNoCredentialsError();
  const url = `https://${config.account}.blob.core.windows.net`;
  if (config.key !== undefined) {
    const credential = new StorageSharedKeyCredential(config.account, config.key);
    return {
      service: new BlobServiceClient(url, credential),
      serviceUrl: url,
      credentials: `the key in AZURE_STORAGE_KEY for account ${config.account}`,
    };
  }
  return { service: new BlobServiceClient(url), serviceUrl: url, credentials: 'no credentials (anonymous requests)' };
}
