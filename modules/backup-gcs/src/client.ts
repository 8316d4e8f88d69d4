import { IdempotencyStrategy, RETRYABLE_ERR_FN_DEFAULT, Storage } from '@google-cloud/storage';
import { ConfigValueError } from '@strata/core';
import { PassThroughClient } from 'google-auth-library';

/** Google's endpoint for the JSON API. */
export const GCS_ENDPOINT = 'https://storage.googleapis.com';

/**
 * `STORAGE_EMULATOR_HOST` as an origin: `host:port` gets `http://` (emulators speak plain HTTP; the SDK
 * alone would assume https and hang for 15 s), a trailing `/` or `/storage/v1` is dropped.
 */
export function parseEmulatorHost(raw: string): string {
  const value = raw.trim().replace(/\/+$/, '');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigValueError({ expected: 'host:port or http://host:port' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigValueError({ fix: 'use http:// or https://' });
  if (url.username !== '' || url.password !== '')
    throw new ConfigValueError({ problem: 'must not contain credentials' });
  if (url.pathname !== '/' && url.pathname !== '/storage/v1') {
    throw new ConfigValueError({ expected: 'host:port without a path' });
  }
  return url.origin;
}

/** The variables {@link createStorage} reads, as the module's configuration parsed them. */
export interface StorageConfig {
  /** STORAGE_EMULATOR_HOST, normalised; undefined for Google's endpoint. */
  readonly emulatorHost?: string | undefined;
  /** BACKUP_GCS_USE_AUTH. */
  readonly useAuth: boolean;
  readonly projectId?: string | undefined;
  readonly maxAttempts: number;
  /** BACKUP_GCS_TIMEOUT_SECONDS: how long a request may go unanswered. */
  readonly timeoutSeconds: number;
}

/** Where requests go and whether they carry credentials. */
export interface StorageSettings {
  readonly endpoint: string;
  /** False for an emulator or BACKUP_GCS_USE_AUTH=false: requests go out anonymous. */
  readonly authenticated: boolean;
}

export function storageSettings(config: StorageConfig): StorageSettings {
  return {
    endpoint: config.emulatorHost ?? GCS_ENDPOINT,
    // Google's own clients never authenticate to an emulator.
    authenticated: config.useAuth && config.emulatorHost === undefined,
  };
}

/**
 * A request abandoned for going unanswered past the timeout. Gaxios reports a FetchError of type
 * `request-timeout` (sometimes wrapped); the call that opens an upload session flattens it to an error
 * with no status, message or reason, which only a request that never got an answer produces.
 */
function isTimeout(error: unknown): boolean {
  const e = error as
    | { type?: unknown; error?: { type?: unknown }; code?: unknown; message?: unknown; errors?: { reason?: unknown }[] }
    | undefined;
  if (e?.type === 'request-timeout' || e?.error?.type === 'request-timeout') return true;
  return (
    e?.code === undefined && e?.message === undefined && e?.errors?.length === 1 && e.errors[0]?.reason === undefined
  );
}

/**
 * Builds the client. Authenticated clients use Application Default Credentials (the SDK's chain);
 * anonymous ones a pass-through auth client, which also covers resumable uploads (the SDK's
 * custom-endpoint switch does not). Every request is retried (backups write each object once, so
 * retrying a write is safe) with exponential backoff on 408, 429, 5xx, connection errors and
 * timeouts; the SDK alone gives up on a timed-out upload request, and waits forever without a timeout.
 */
export function createStorage(config: StorageConfig): Storage {
  const settings = storageSettings(config);
  const storage = new Storage({
    apiEndpoint: settings.endpoint,
    ...(config.projectId === undefined ? {} : { projectId: config.projectId }),
    ...(settings.authenticated ? {} : { authClient: new PassThroughClient() }),
    retryOptions: {
      autoRetry: config.maxAttempts > 1,
      maxRetries: Math.max(1, config.maxAttempts - 1),
      idempotencyStrategy: IdempotencyStrategy.RetryAlways,
      retryDelayMultiplier: 2,
      maxRetryDelay: 8,
      retryableErrorFn: (error) => RETRYABLE_ERR_FN_DEFAULT(error) || isTimeout(error),
    },
  });
  // Reaches every request, resumable upload requests included (their timeout runs until the answer,
  // so it bounds the time to send one chunk).
  const timeout = config.timeoutSeconds * 1000;
  type Interceptor = Storage['interceptors'][number];
  // The SDK types the interceptor's input without the `uri` it requires back; the object is the same.
  storage.interceptors.push({
    request: (options) => Object.assign(options, { timeout }) as ReturnType<Interceptor['request']>,
  });
  // The SDK takes its JSON API base from STORAGE_EMULATOR_HOST as written, without a scheme when the
  // variable has none; the normalised endpoint wins.
  storage.baseUrl = `${settings.endpoint}/storage/v1`;
  return storage;
}
