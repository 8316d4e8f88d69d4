import type { StrataError } from '@strata/core';
import {
  AzureAccessDeniedError,
  AzureContainerNotFoundError,
  AzureRequestFailedError,
  AzureUnreachableError,
} from './errors.js';

/** What a failed call was about, for the error message. */
export interface FailureContext {
  /** `container "c" at https://acct.blob.core.windows.net`. */
  readonly target: string;
  /** Where credentials come from, in words. */
  readonly credentials: string;
}

/** The fields of an Azure SDK RestError (or a socket error) this module reads. */
interface SdkError {
  readonly statusCode?: number;
  /** Azure's error code (`ContainerNotFound`, `BlobNotFound`, ...) or a socket code (`ECONNREFUSED`). */
  readonly code?: string;
  readonly message?: string;
  readonly cause?: SdkError;
}

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH']);
/** Errors after which a download continues where it stopped. */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE']);

const codeOf = (error: unknown): string | undefined => {
  const e = (error ?? {}) as SdkError;
  return e.code ?? e.cause?.code;
};

/** True when a download broke off (reset, ended early) and can resume where it stopped. */
export function isBrokenConnection(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && BROKEN.has(code);
}

/** True when a blob read failed because the blob is not there (the container is). */
export function isBlobNotFound(error: unknown): boolean {
  const e = (error ?? {}) as SdkError;
  return e.statusCode === 404 && e.code !== 'ContainerNotFound';
}

/** Turns an SDK failure into an error that says what to check. */
export function describeFailure(error: unknown, what: string, context: FailureContext): StrataError {
  const e = (error ?? {}) as SdkError;
  // Azure puts the whole XML error body in the message; its first line says it.
  const reason = (e.message ?? String(error)).split('\n')[0] as string;
  if (e.code === 'ContainerNotFound') return new AzureContainerNotFoundError(context.target).withCause(error);
  if (e.statusCode === 401 || e.statusCode === 403) {
    const detail = `HTTP ${e.statusCode} ${e.code ?? ''}`.trim();
    return new AzureAccessDeniedError(context.target, detail, context.credentials).withCause(error);
  }
  if (e.code === 'InvalidBlockList') {
    const detail =
      'another write to the same blob committed first and Azure discarded the blocks of this one; write it again';
    return new AzureRequestFailedError(what, context.target, detail).withCause(error);
  }
  const code = codeOf(error);
  if (e.statusCode === undefined && code !== undefined && NETWORK.has(code)) {
    return new AzureUnreachableError(context.target, `${code}: ${reason}`).withCause(error);
  }
  const detail = e.statusCode === undefined ? reason : `${reason} (HTTP ${e.statusCode}${e.code ? ` ${e.code}` : ''})`;
  return new AzureRequestFailedError(what, context.target, detail).withCause(error);
}
