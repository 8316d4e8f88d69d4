/** Every error @strata/backup-s3 raises; codes are stable (see docs/errors.md). */
import { defineError } from '@strata/core';

/** Where a failed call went: `bucket "b" at https://endpoint`. */
export type Target = string;

export const S3BucketNotFoundError = defineError(
  'STRATA_S3_BUCKET_NOT_FOUND',
  422,
  (target: Target) =>
    `backup-s3: ${target} does not exist. Create the bucket first (Strata never creates buckets), or set ` +
    `BACKUP_S3_BUCKET (or the request's config.Bucket) to an existing one.`,
);

export const S3AccessDeniedError = defineError(
  'STRATA_S3_ACCESS_DENIED',
  403,
  (target: Target, reason: string, credentials: string) =>
    `backup-s3: ${target} refused the request (${reason}). Check the credentials (${credentials}) and that ` +
    `they may list the bucket and put, get and delete objects in it.`,
);

export const S3NoCredentialsError = defineError(
  'STRATA_S3_NO_CREDENTIALS',
  500,
  (target: Target, reason: string) =>
    `backup-s3: no AWS credentials found for ${target} (${reason}). Set AWS_ACCESS_KEY_ID and ` +
    `AWS_SECRET_ACCESS_KEY, or give the node a role (AWS_PROFILE, web identity, ECS task role, EC2 instance profile).`,
);

export const S3WrongRegionError = defineError(
  'STRATA_S3_WRONG_REGION',
  422,
  (target: Target, configured: string, actual: string | undefined) =>
    `backup-s3: ${target} is not in region ${configured}` +
    (actual === undefined ? '' : ` but in ${actual}`) +
    `. Set AWS_REGION to ${actual ?? "the bucket's region"}.`,
);

export const S3UnreachableError = defineError(
  'STRATA_S3_UNREACHABLE',
  503,
  (target: Target, reason: string) =>
    `backup-s3: cannot reach ${target} (${reason}). Check BACKUP_S3_ENDPOINT, BACKUP_S3_USE_SSL and that the ` +
    `node can connect to it.`,
);

export const S3RequestFailedError = defineError(
  'STRATA_S3_REQUEST_FAILED',
  502,
  (what: string, target: Target, reason: string) => `backup-s3: ${what} in ${target} failed: ${reason}`,
);

export const S3CredentialsIncompleteError = defineError(
  'STRATA_S3_CREDENTIALS_INCOMPLETE',
  500,
  (present: string, missing: string) =>
    `backup-s3: ${present} is set but ${missing} is not. Set both for static credentials, or neither to use ` +
    `the AWS SDK's default credential chain.`,
);

export const S3ObjectTooLargeError = defineError(
  'STRATA_S3_OBJECT_TOO_LARGE',
  500,
  (key: string, partSize: number) =>
    `backup-s3: "${key}" is larger than S3's 10,000 parts of ${(partSize / 1024 ** 2).toFixed(0)} MiB. Raise ` +
    `BACKUP_S3_PART_SIZE (each 1 MiB more allows 9.8 GiB more).`,
);
