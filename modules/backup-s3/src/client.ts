import { S3Client } from '@aws-sdk/client-s3';
import { type StaticCredentials, staticCredentials } from './credentials.js';
import { type ResolvedEndpoint, resolveEndpoint } from './endpoint.js';

/** When the SDK computes and checks checksums: the values of `BACKUP_S3_CHECKSUMS`. */
export type ChecksumMode = 'when_supported' | 'when_required';

/** Everything the S3 client is built from. */
export interface ClientSettings {
  readonly endpoint: ResolvedEndpoint;
  /** The region to sign for; undefined lets the client follow the bucket's region (AWS only). */
  readonly region: string | undefined;
  readonly credentials: StaticCredentials | undefined;
  readonly forcePathStyle: boolean;
  readonly checksums: ChecksumMode;
  readonly maxAttempts: number;
  /** Milliseconds a connection may stay silent before the request is abandoned (and retried). */
  readonly timeoutMs: number;
}

/** The variables {@link clientSettings} reads, as the module's configuration parsed them. */
export interface ClientConfig {
  readonly endpoint: string;
  readonly useSSL: boolean;
  readonly region?: string | undefined;
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
  readonly sessionToken?: string | undefined;
  readonly forcePathStyle?: boolean | undefined;
  readonly checksums?: ChecksumMode | undefined;
  readonly maxAttempts: number;
  readonly timeoutSeconds: number;
}

/**
 * The client's settings from the module's variables. Off AWS, path-style addressing and checksums
 * only when required are the defaults: compatible stores rarely resolve bucket.host names, and several
 * store the SDK's default aws-chunked checksum framing as object data while answering 200.
 */
export function clientSettings(config: ClientConfig): ClientSettings {
  const endpoint = resolveEndpoint(config.endpoint, config.useSSL);
  return {
    endpoint,
    region: config.region,
    credentials: staticCredentials(config),
    forcePathStyle: config.forcePathStyle ?? !endpoint.aws,
    checksums: config.checksums ?? (endpoint.aws ? 'when_supported' : 'when_required'),
    maxAttempts: config.maxAttempts,
    timeoutMs: config.timeoutSeconds * 1000,
  };
}

/** The region signed for when none is configured: the one every S3-compatible store accepts. */
export const DEFAULT_REGION = 'us-east-1';

/**
 * Builds the S3 client. Retries use the SDK's standard mode: exponential backoff with jitter on
 * throttling, 5xx answers, timeouts and connection resets, `maxAttempts` tries per request.
 */
export function createS3Client(settings: ClientSettings): S3Client {
  const checksums = settings.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  return new S3Client({
    region: settings.region ?? DEFAULT_REGION,
    // Without a configured region, a bucket elsewhere answers with a redirect the client follows.
    followRegionRedirects: settings.region === undefined && settings.endpoint.aws,
    ...(settings.endpoint.global ? {} : { endpoint: settings.endpoint.url }),
    forcePathStyle: settings.forcePathStyle,
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    maxAttempts: settings.maxAttempts,
    retryMode: 'standard',
    // Without throwOnRequestTimeout the handler only logs a warning and a stalled request hangs on.
    requestHandler: {
      connectionTimeout: settings.timeoutMs,
      requestTimeout: settings.timeoutMs,
      throwOnRequestTimeout: true,
    },
  });
}
