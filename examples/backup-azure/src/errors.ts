/** Every error strata-backup-azure raises; codes are stable (see README.md). */
import { defineError } from '@strata/core';

export const AzureNoCredentialsError = defineError(
  'STRATA_AZURE_NO_CREDENTIALS',
  500,
  () =>
    'backup-azure: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT (with AZURE_STORAGE_KEY, ' +
    'or alone for anonymous access to a public container).',
);

export const AzureContainerNotFoundError = defineError(
  'STRATA_AZURE_CONTAINER_NOT_FOUND',
  422,
  (target: string) =>
    `backup-azure: ${target} does not exist. Create the container first (Strata never creates containers), ` +
    `or set BACKUP_AZURE_CONTAINER (or the request's config.Bucket) to an existing one.`,
);

export const AzureAccessDeniedError = defineError(
  'STRATA_AZURE_ACCESS_DENIED',
  403,
  (target: string, reason: string, credentials: string) =>
    `backup-azure: ${target} refused the request (${reason}). Check the credentials (${credentials}): the ` +
    'account key or SAS must be current and allow reading, writing, listing and deleting blobs in the container.',
);

export const AzureUnreachableError = defineError(
  'STRATA_AZURE_UNREACHABLE',
  503,
  (target: string, reason: string) =>
    `backup-azure: cannot reach ${target} (${reason}). Check the BlobEndpoint in AZURE_STORAGE_CONNECTION_STRING ` +
    '(or AZURE_STORAGE_ACCOUNT), and that the node can connect to it (proxy, firewall, DNS).',
);

export const AzureRequestFailedError = defineError(
  'STRATA_AZURE_REQUEST_FAILED',
  502,
  (what: string, target: string, reason: string) => `backup-azure: ${what} in ${target} failed: ${reason}`,
);
