import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForLine } from './process.js';
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
}

/**
 * Starts s3rver in its own process on a free port, with AbortMultipartUpload added (see
 * s3rver-process.ts). s3rver needs `--openssl-legacy-provider`: it makes ListObjectsV2 continuation
 * tokens with DES, and without the flag every paginated listing fails with 500.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'strata-s3rver-'));
  const entry = fileURLToPath(new URL('./s3rver-process.js', import.meta.url));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', entry, directory, ...(options.buckets ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const [, port] = await waitForLine(child, /S3 server listening on [\d.]+:(\d+)/);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    ...CREDENTIALS,
    directory,
    env: (bucket) => ({
      BACKUP_S3_BUCKET: bucket,
      BACKUP_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    }),
    openUploads: (bucket) => readdir(uploadsDir(directory, bucket)).catch(() => []),
    async stop() {
      process.off('exit', killChild);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      killChild();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
