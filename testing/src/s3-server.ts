import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { forward } from './forward.js';
import { listen, waitForLine } from './process.js';
import { sendS3Error } from './s3-error.js';

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

const require = createRequire(import.meta.url);

/** Where s3rver keeps the parts of multipart uploads in progress. */
function uploadsDir(directory: string, bucket: string): string {
  return join(directory, bucket, '._S3rver_uploads');
}

/**
 * AbortMultipartUpload (`DELETE /bucket/key?uploadId=...`), which s3rver answers with 405: drops the
 * upload's parts as S3 does. Returns false for every other request.
 */
async function abortUpload(req: IncomingMessage, res: ServerResponse, directory: string): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://s3');
  const uploadId = url.searchParams.get('uploadId');
  if (req.method !== 'DELETE' || uploadId === null) return false;
  const bucket = decodeURIComponent(url.pathname.split('/')[1] ?? '');
  const dir = join(uploadsDir(directory, bucket), uploadId);
  req.resume();
  if (!/^[0-9a-f]+$/.test(uploadId) || !(await stat(dir).catch(() => undefined))) {
    sendS3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
  } else {
    await rm(dir, { recursive: true, force: true });
    res.writeHead(204).end();
  }
  return true;
}

/**
 * Starts s3rver in its own process on a free port, behind a small front that adds
 * AbortMultipartUpload. s3rver needs `--openssl-legacy-provider`: it makes ListObjectsV2 continuation
 * tokens with DES, and without the flag every paginated listing fails with 500.
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'strata-s3rver-'));
  const bin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const buckets = (options.buckets ?? []).flatMap((bucket) => ['--configure-bucket', bucket]);
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', bin, '-d', directory, '-a', '127.0.0.1', '-p', '0', '--silent', ...buckets],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const [, upstreamPort] = await waitForLine(child, /S3rver listening on [\d.]+:(\d+)/);
  const upstream = `http://127.0.0.1:${upstreamPort}`;

  const front: Server = createServer((req, res) => {
    void abortUpload(req, res, directory).then((handled) => {
      if (!handled) void forward(req, res, upstream);
    });
  });
  const port = (await listen(front)).port;
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
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
      process.off('exit', killChild);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      killChild();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
