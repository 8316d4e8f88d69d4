import { S3Client } from '@aws-sdk/client-s3';
import type { StaticCredentials } from './credentials.js';
import type { ResolvedEndpoint } from './endpoint.js';

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
    requestHandler: { connectionTimeout: settings.timeoutMs, requestTimeout: settings.timeoutMs },
  });
}
