/** Every error @strata/backup-gcs raises; codes are stable (see docs/errors.md). */
import { defineError } from '@strata/core';

/** Where a failed call went: `bucket "b" at https://storage.googleapis.com`. */
export type Target = string;

export const GcsBucketNotFoundError = defineError(
  'STRATA_GCS_BUCKET_NOT_FOUND',
  422,
  (target: Target) =>
    `backup-gcs: ${target} does not exist. Create the bucket first (Strata never creates buckets), or set ` +
    `BACKUP_GCS_BUCKET (or the request's config.Bucket) to an existing one.`,
);

export const GcsAccessDeniedError = defineError(
  'STRATA_GCS_ACCESS_DENIED',
  403,
  (target: Target, reason: string, credentials: string) =>
    `backup-gcs: ${target} refused the request (${reason}). Check that the credentials (${credentials}) may ` +
    `list the bucket and create, read and delete objects in it (roles/storage.objectAdmin on the bucket).`,
);

export const GcsNoCredentialsError = defineError(
  'STRATA_GCS_NO_CREDENTIALS',
  500,
  (target: Target, reason: string) =>
    `backup-gcs: no Google credentials found for ${target} (${reason}). Set GOOGLE_APPLICATION_CREDENTIALS to ` +
    `a service account key file, run \`gcloud auth application-default login\`, attach a service account to ` +
    `the machine, or set BACKUP_GCS_USE_AUTH=false for a public bucket.`,
);

export const GcsCredentialsFileError = defineError(
  'STRATA_GCS_CREDENTIALS_FILE',
  500,
  (path: string, reason: string) =>
    `backup-gcs: GOOGLE_APPLICATION_CREDENTIALS names ${path}, which ${reason}. Point it at a readable ` +
    `service account (or external account) JSON key file, or unset it to use the other default credentials.`,
);

export const GcsUnreachableError = defineError(
  'STRATA_GCS_UNREACHABLE',
  503,
  (target: Target, reason: string, hint: string) => `backup-gcs: cannot reach ${target} (${reason}). ${hint}`,
);

export const GcsRequestFailedError = defineError(
  'STRATA_GCS_REQUEST_FAILED',
  502,
  (what: string, target: Target, reason: string) => `backup-gcs: ${what} in ${target} failed: ${reason}`,
);
