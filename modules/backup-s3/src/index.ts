/**
 * @strata/backup-s3: stores Strata backups in Amazon S3 or any S3-compatible store (MinIO, Ceph,
 * Cloudflare R2, Google Cloud Storage's interoperability API).
 *
 * Enable it with `ENABLE_MODULES=backup-s3` and set `BACKUP_S3_BUCKET` to an existing bucket. Backups
 * land under `s3://<bucket>/<BACKUP_S3_PATH>/<backup id>/`. Every node of a cluster can reach the
 * bucket, so the module declares itself external. docs/providers/s3.md lists every variable.
 *
 * @packageDocumentation
 */
import { BACKUP_BACKEND, ConfigValueError, defineBackupModule, MODULE_API_VERSION, parsers } from '@strata/core';
import { clientSettings, createS3Client, DEFAULT_REGION } from './client.js';
import { AWS_ENDPOINT, parseEndpoint } from './endpoint.js';
import { S3Backend } from './s3-backend.js';

export { type ChecksumMode, type ClientConfig, type ClientSettings, clientSettings, createS3Client } from './client.js';
export { S3Backend, type S3BackendOptions } from './s3-backend.js';

const MiB = 1024 * 1024;
/**
 * Bounds on a part (all but the last): S3's 5 MiB minimum, and 1 GiB because parts are held in memory
 * (S3 allows 5 GiB, but 525 MiB parts already reach its 5 TiB object limit). With S3's 10,000 parts,
 * 6 MiB parts carry objects up to 58 GiB.
 */
const MIN_PART = 5 * MiB;
const MAX_PART = 1024 * MiB;

function partSize(raw: string): number {
  const bytes = parsers.byteSize(raw);
  if (bytes < MIN_PART || bytes > MAX_PART) throw new ConfigValueError({ expected: 'a part size from 5MiB to 1GiB' });
  return bytes;
}

// A generic parser called inline would stop TypeScript inferring the whole config's types.
const checksumMode = parsers.oneOf(['when_supported', 'when_required']);

export default defineBackupModule({
  name: 'backup-s3',
  altNames: ['s3'],
  apiVersion: MODULE_API_VERSION,
  capabilities: { external: true, pathScope: 'prefix' },
  config: {
    bucket: {
      name: 'BACKUP_S3_BUCKET',
      required: true,
      description: 'The bucket backups are written to; it must exist.',
    },
    path: { name: 'BACKUP_S3_PATH', default: '', description: 'Key prefix inside the bucket; none by default.' },
    endpoint: {
      name: 'BACKUP_S3_ENDPOINT',
      default: AWS_ENDPOINT,
      parse: parseEndpoint,
      description: 'The S3 endpoint: host[:port] (as in Weaviate) or an http(s):// URL.',
    },
    useSSL: {
      name: 'BACKUP_S3_USE_SSL',
      default: true,
      // Weaviate's rule: only "false" (any case) turns TLS off.
      parse: (raw: string) => raw.trim().toLowerCase() !== 'false',
      description: 'Use https for a host[:port] endpoint; only "false" disables it.',
    },
    region: {
      name: 'AWS_REGION',
      fallbacks: ['AWS_DEFAULT_REGION'],
      description: `The bucket's region; unset, ${DEFAULT_REGION} is signed for and AWS redirects are followed.`,
    },
    accessKeyId: {
      name: 'AWS_ACCESS_KEY_ID',
      fallbacks: ['AWS_ACCESS_KEY'],
      secret: true,
      description: 'Access key id of static credentials; unset, the AWS SDK default credential chain is used.',
    },
    secretAccessKey: {
      name: 'AWS_SECRET_ACCESS_KEY',
      fallbacks: ['AWS_SECRET_KEY'],
      secret: true,
      description: 'Secret access key of static credentials.',
    },
    sessionToken: {
      name: 'AWS_SESSION_TOKEN',
      secret: true,
      description: 'Session token of temporary static credentials.',
    },
    forcePathStyle: {
      name: 'BACKUP_S3_FORCE_PATH_STYLE',
      parse: parsers.boolean,
      description: 'Address buckets as endpoint/bucket (true) or bucket.endpoint (false); default true except on AWS.',
    },
    checksums: {
      name: 'BACKUP_S3_CHECKSUMS',
      parse: checksumMode,
      description:
        'When request checksums are sent: when_supported (AWS default) or when_required (default elsewhere).',
    },
    partSize: {
      name: 'BACKUP_S3_PART_SIZE',
      default: 6 * MiB,
      parse: partSize,
      description: 'Multipart upload part size (5MiB to 1GiB); 10,000 parts make the largest object.',
    },
    concurrency: {
      name: 'BACKUP_S3_CONCURRENCY',
      // One part in flight per object: core already uploads several chunks at once, and more parts
      // per object measured no faster (bench:s3) while holding more memory.
      default: 1,
      parse: parsers.integer({ min: 1, max: 64 }),
      description: 'Parts of one object uploaded at once; an upload holds at most part size x (this + 1) in memory.',
    },
    maxAttempts: {
      name: 'BACKUP_S3_MAX_ATTEMPTS',
      default: 5,
      parse: parsers.integer({ min: 1, max: 20 }),
      description: 'Attempts per request (and per broken download) before a call fails.',
    },
    timeoutSeconds: {
      name: 'BACKUP_S3_TIMEOUT_SECONDS',
      default: 60,
      parse: parsers.integer({ min: 1, max: 3600 }),
      description: 'Seconds a connection may stay silent before its request is abandoned and retried.',
    },
  },
  meta: (config) => ({
    endpoint: config.endpoint,
    bucket: config.bucket,
    path: config.path,
    useSSL: config.useSSL,
    ...(config.region === undefined ? {} : { region: config.region }),
  }),
  register({ container, config, logger }) {
    const settings = clientSettings(config);
    const backend = new S3Backend({
      client: createS3Client(settings),
      endpoint: settings.endpoint.url,
      region: config.region ?? DEFAULT_REGION,
      bucket: config.bucket,
      path: config.path,
      staticKeys: settings.credentials !== undefined,
      partSize: config.partSize,
      concurrency: config.concurrency,
      maxAttempts: config.maxAttempts,
      logger,
    });
    container.register(BACKUP_BACKEND, { useValue: backend });
  },
});
