import { readdir } from 'node:fs/promises';
import { startServerProcess } from './process.js';
import { uploadsDir } from './s3rver-layout.js';

/** s3rver's built-in credentials. */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A running S3 server (s3rver) with the multipart calls it lacks filled in. */
export interface S3Server {
  /** `http://127.0.0.1:PORT`: use with path-style addressing. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Where s3rver keeps buckets and objects. */
  readonly directory: string;
  /** The environment that points backup-s3 at `bucket` on this server. */
  env(bucket: string): Record<string, string>;
  /** Upload ids of multipart uploads started in `bucket` and neither completed nor aborted. */
  openUploads(bucket: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** Options of {@link startS3Server}. */
export interface S3ServerOptions {
  /** Buckets created at start. */
  readonly buckets?: readonly string[];
  /**
   * Credentials the server accepts beside s3rver's built-in ones, and that `env()` then uses.
   * s3rver checks the key id but not a SigV4 signature, so any secret works with it.
   */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * Starts s3rver in its own process on a free port, with AbortMultipartUpload and ListMultipartUploads
 * added (see s3rver-multipart.ts). s3rver needs `--openssl-legacy-provider`: it makes ListObjectsV2
 * continuation tokens with DES, and without the flag every paginated listing fails with 500.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const { credentials } = options;
  const server = await startServerProcess({
    name: 'strata-s3rver-',
    entry: './s3rver-process.js',
    nodeArgs: ['--openssl-legacy-provider'],
    args: (directory) => [directory, ...(options.buckets ?? [])],
    ...(credentials === undefined ? {} : { env: () => ({ S3RVER_ACCESS_KEY_ID: credentials.accessKeyId }) }),
    ready: /S3 server listening on [\d.]+:(\d+)/,
  });
  const { endpoint, directory } = server;
  const accepted = credentials ?? CREDENTIALS;
  return {
    endpoint,
    accessKeyId: accepted.accessKeyId,
    secretAccessKey: accepted.secretAccessKey,
    directory,
    env: (bucket) => ({
      BACKUP_S3_BUCKET: bucket,
      BACKUP_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: accepted.accessKeyId,
      AWS_SECRET_ACCESS_KEY: accepted.secretAccessKey,
      AWS_REGION: 'us-east-1',
    }),
    openUploads: (bucket) => readdir(uploadsDir(directory, bucket)).catch(() => []),
    stop: () => server.stop(),
  };
}
