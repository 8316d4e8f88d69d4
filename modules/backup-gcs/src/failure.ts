import type { StrataError } from '@strata/core';
import {
  GcsAccessDeniedError,
  GcsBucketNotFoundError,
  GcsNoCredentialsError,
  GcsRequestFailedError,
  GcsUnreachableError,
} from './errors.js';

/** What a failed call was about, for the error message. */
export interface FailureContext {
  /** `bucket "b" at https://storage.googleapis.com`. */
  readonly target: string;
  /** Where credentials come from, in words. */
  readonly credentials: string;
  /** True when requests go to STORAGE_EMULATOR_HOST. */
  readonly emulator: boolean;
}

/** The fields of a @google-cloud/storage (ApiError) or gaxios error this module reads. */
interface SdkError {
  readonly code?: number | string;
  readonly message?: string;
  readonly errors?: readonly { readonly reason?: string; readonly message?: string }[];
  readonly cause?: SdkError;
  /** A gaxios error's status (resumable upload requests fail this way). */
  readonly status?: number;
  readonly response?: { readonly status?: number; readonly data?: unknown };
}

/** The message of a JSON API error body (`{"error": {"message": ...}}`) a gaxios error carries. */
function bodyMessage(e: SdkError): string | undefined {
  const message = (e.response?.data as { error?: { message?: unknown } } | undefined)?.error?.message;
  return typeof message === 'string' ? message : undefined;
}

const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Errors after which a download continues where it stopped. */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Messages google-auth-library gives when Application Default Credentials find nothing usable. */
const NO_CREDENTIALS = /default credentials|Could not load the default|invalid_grant|Could not refresh access token/i;

/** The HTTP status of a failed request, if the server answered. */
export function httpStatus(error: unknown): number | undefined {
  const e = (error ?? {}) as SdkError;
  if (typeof e.code === 'number') return e.code;
  const status = e.status ?? e.response?.status;
  return typeof status === 'number' ? status : undefined;
}

/** The socket error code underneath, if the request never got an answer. */
function networkCode(error: unknown): string | undefined {
  const e = (error ?? {}) as SdkError;
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  return code !== undefined && NETWORK.has(code) ? code : undefined;
}

/** True when a download broke off (reset, silent, ended early) and can resume where it stopped. */
export function isBrokenConnection(error: unknown): boolean {
  const code = (error as SdkError | undefined)?.code;
  return typeof code === 'string' && BROKEN.has(code);
}

/** True when an object read or delete failed because the object is not there. */
export function isObjectNotFound(error: unknown): boolean {
  return httpStatus(error) === 404 && !/bucket/i.test((error as SdkError).message ?? '');
}

/** Turns an SDK failure into an error that says what to check. */
export function describeFailure(error: unknown, what: string, context: FailureContext): StrataError {
  const e = (error ?? {}) as SdkError;
  const status = httpStatus(error);
  // The client joins several errors into "Multiple errors occurred..."; the first one says it best.
  const reason =
    e.errors?.find((item) => item.message !== undefined)?.message ?? bodyMessage(e) ?? e.message ?? String(error);
  if (status === 404 && /bucket/i.test(reason)) {
    return new GcsBucketNotFoundError(context.target).withCause(error);
  }
  if (status === 401 || status === 403) {
    return new GcsAccessDeniedError(context.target, `HTTP ${status}: ${reason}`, context.credentials).withCause(error);
  }
  if (status === undefined && NO_CREDENTIALS.test(reason)) {
    return new GcsNoCredentialsError(context.target, reason).withCause(error);
  }
  const network = networkCode(error);
  if (network !== undefined) {
    const hint = context.emulator
      ? 'Check STORAGE_EMULATOR_HOST and that the emulator is running.'
      : 'Check that the node can connect to storage.googleapis.com (proxy, firewall, DNS).';
    return new GcsUnreachableError(context.target, `${network}: ${reason}`, hint).withCause(error);
  }
  const timedOut = / network timeout at/.test(reason) ? '; raise BACKUP_GCS_TIMEOUT_SECONDS for a slow link' : '';
  const detail = (status === undefined ? reason : `${reason} (HTTP ${status})`) + timedOut;
  return new GcsRequestFailedError(what, context.target, detail).withCause(error);
}
