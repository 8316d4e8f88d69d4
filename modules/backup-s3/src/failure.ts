import type { StrataError } from '@strata/core';
import {
  S3AccessDeniedError,
  S3BucketNotFoundError,
  S3NoCredentialsError,
  S3RequestFailedError,
  S3UnreachableError,
  S3WrongRegionError,
} from './errors.js';

/** What a failed call was about, for the error message. */
export interface FailureContext {
  /** `bucket "b" at https://endpoint`. */
  readonly target: string;
  /** The region requests were signed for. */
  readonly region: string;
  /** Where credentials came from, in words. */
  readonly credentials: string;
  /** The permissions the call needs, when more than writes and reads do: named if S3 refuses it. */
  readonly permissions?: string | undefined;
}

/** The fields of an AWS SDK error (or a Node.js socket error) this module reads. */
interface SdkError {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly Region?: string;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
  readonly $response?: { readonly headers?: Record<string, string | undefined> };
}

const DENIED = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
]);
const WRONG_REGION = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'MovedPermanently']);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);

/** Errors after which a download is resumed where it stopped: the connection broke or stalled. */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'TimeoutError', 'ERR_STREAM_PREMATURE_CLOSE']);

/** True when a download broke off (reset, stall, early end) rather than being refused. */
export function isBrokenConnection(error: unknown): boolean {
  return BROKEN.has(errorCode(error));
}

/** The code of an SDK error: S3's error code, or the socket error code underneath. */
function errorCode(error: unknown): string {
  const e = (error ?? {}) as SdkError & { cause?: SdkError };
  return e.code ?? e.cause?.code ?? e.name ?? 'Error';
}

export function httpStatus(error: unknown): number | undefined {
  return (error as SdkError | null)?.$metadata?.httpStatusCode;
}

/** True for S3's "no such key" answers (GetObject's NoSuchKey, HeadObject's bare 404). */
export function isNoSuchKey(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'NoSuchKey' || (code === 'NotFound' && httpStatus(error) === 404);
}

/** True for S3's answer about an upload that is no longer in progress (completed or aborted). */
export function isNoSuchUpload(error: unknown): boolean {
  return errorCode(error) === 'NoSuchUpload';
}

/** The region S3 says the bucket is in, from its header or its error body. */
function bucketRegion(error: SdkError): string | undefined {
  const header = error.$response?.headers?.['x-amz-bucket-region'];
  if (header !== undefined && header !== '') return header;
  if (error.Region !== undefined && error.Region !== '') return error.Region;
  return /expecting '([a-z0-9-]+)'/.exec(error.message ?? '')?.[1];
}

/** `NoSuchBucket (HTTP 404) after 3 attempts: The specified bucket does not exist` */
function reasonOf(error: SdkError, code: string): string {
  const status = error.$metadata?.httpStatusCode;
  const attempts = error.$metadata?.attempts;
  const message = error.message !== undefined && error.message !== code ? `: ${error.message}` : '';
  return `${code}${status === undefined ? '' : ` (HTTP ${status})`}${attempts !== undefined && attempts > 1 ? ` after ${attempts} attempts` : ''}${message}`;
}

/**
 * Turns an SDK error into one that says what to check: the bucket is missing, the credentials are
 * refused, the region is wrong, the endpoint cannot be reached, or (otherwise) what failed and why.
 * `what` names the call, e.g. `writing "id/backup.json"`.
 */
export function describeFailure(error: unknown, what: string, context: FailureContext): StrataError {
  const e = (error ?? {}) as SdkError;
  const code = errorCode(error);
  const status = httpStatus(error);
  const reason = reasonOf(e, code);
  let described: StrataError;
  if (code === 'NoSuchBucket') described = new S3BucketNotFoundError(context.target);
  else if (code === 'CredentialsProviderError') described = new S3NoCredentialsError(context.target, e.message ?? code);
  else if (WRONG_REGION.has(code) || status === 301) {
    described = new S3WrongRegionError(context.target, context.region, bucketRegion(e));
  } else if (DENIED.has(code) || status === 403) {
    const needs = context.permissions === undefined ? '' : `; ${what} needs ${context.permissions}`;
    described = new S3AccessDeniedError(context.target, `${reason}${needs}`, context.credentials);
  } else if (NETWORK.has(code)) described = new S3UnreachableError(context.target, reason);
  else described = new S3RequestFailedError(what, context.target, reason);
  return described.withCause(error);
}
