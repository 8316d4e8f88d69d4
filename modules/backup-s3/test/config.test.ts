import test from 'ava';
import { clientSettings } from '../src/client.js';
import { parseEndpoint } from '../src/endpoint.js';
import { loadS3, rejection } from './helpers.js';

const base = { endpoint: 's3.amazonaws.com', useSSL: true, maxAttempts: 5, timeoutSeconds: 60 };

test('on AWS the SDK picks the regional endpoint, virtual-hosted addressing and checksums', (t) => {
  const settings = clientSettings(base);
  t.deepEqual(settings.endpoint, { url: 'https://s3.amazonaws.com', aws: true, global: true });
  t.is(settings.forcePathStyle, false);
  t.is(settings.checksums, 'when_supported');
  t.is(settings.credentials, undefined, 'no keys: the default chain');
});

test('off AWS, path-style and checksums when required are the defaults, each overridable', (t) => {
  const minio = clientSettings({ ...base, endpoint: 'minio.local:9000', useSSL: false });
  t.deepEqual(minio.endpoint, { url: 'http://minio.local:9000', aws: false, global: false });
  t.is(minio.forcePathStyle, true);
  t.is(minio.checksums, 'when_required');
  const overridden = clientSettings({
    ...base,
    endpoint: 'https://r2.example.com',
    forcePathStyle: false,
    checksums: 'when_supported',
  });
  t.is(overridden.forcePathStyle, false);
  t.is(overridden.checksums, 'when_supported');
});

test('a URL endpoint keeps its scheme; a host:port gets https unless USE_SSL is false', (t) => {
  t.is(clientSettings({ ...base, endpoint: 'http://ceph:7480', useSSL: true }).endpoint.url, 'http://ceph:7480');
  t.is(clientSettings({ ...base, endpoint: 'ceph:7480' }).endpoint.url, 'https://ceph:7480');
  t.is(clientSettings({ ...base, endpoint: 's3.eu-west-1.amazonaws.com' }).endpoint.global, false);
});

test('static keys are used only as a complete pair, with the session token when set', (t) => {
  t.deepEqual(clientSettings({ ...base, accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST' }).credentials, {
    accessKeyId: 'AK',
    secretAccessKey: 'SK',
    sessionToken: 'ST',
  });
});

const required = { BACKUP_S3_BUCKET: 'b' };

for (const [title, env, message] of [
  ['an unset bucket', {}, 'BACKUP_S3_BUCKET'],
  ['an endpoint with an ftp scheme', { BACKUP_S3_ENDPOINT: 'ftp://host' }, 'use http:// or https://'],
  ['an endpoint with a path', { BACKUP_S3_ENDPOINT: 'http://host:9000/bucket' }, 'put the bucket in BACKUP_S3_BUCKET'],
  ['an endpoint with credentials', { BACKUP_S3_ENDPOINT: 'http://me:pw@host' }, 'must not contain credentials'],
  ['a part size under 5 MiB', { BACKUP_S3_PART_SIZE: '1MiB' }, 'expected a part size from 5MiB to 1GiB'],
  ['a part size over 1 GiB', { BACKUP_S3_PART_SIZE: '2GiB' }, 'expected a part size from 5MiB to 1GiB'],
  ['a concurrency of 0', { BACKUP_S3_CONCURRENCY: '0' }, 'expected a number from 1 to 64'],
  ['an unknown checksum mode', { BACKUP_S3_CHECKSUMS: 'always' }, 'expected one of when_supported, when_required'],
  [
    'a key id without its secret',
    { AWS_ACCESS_KEY_ID: 'AK' },
    'AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not',
  ],
  [
    'a secret without its key id',
    { AWS_SECRET_KEY: 'SK' },
    'AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not',
  ],
] as const) {
  test(`${title} stops the module from loading, saying what to fix`, async (t) => {
    const error = await rejection(loadS3(title === 'an unset bucket' ? env : { ...required, ...env }));
    t.true(error.message.includes(message), error.message);
  });
}

test('AWS_DEFAULT_REGION is read when AWS_REGION is unset, and shown in meta', async (t) => {
  const { meta, close } = await loadS3({ ...required, AWS_DEFAULT_REGION: 'ap-south-1' });
  t.teardown(close);
  t.is(meta.region, 'ap-south-1');
  t.is(meta.endpoint, 's3.amazonaws.com');
  t.is(meta.useSSL, true);
});

test('a BACKUP_S3_ENDPOINT parseEndpoint refuses says so in ConfigValueError words, never quoting the value', (t) => {
  for (const [raw, message] of [
    ['http://[::1', 'expected host[:port] (such as s3.amazonaws.com or minio:9000) or an http(s) URL'],
    ['ftp://host', 'the scheme ftp:// is not supported; use http:// or https://'],
    ['http://me:pw@host', 'the endpoint must not contain credentials; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'],
    [
      'http://host:9000/bucket',
      'the endpoint must be a host, not a path; put the bucket in BACKUP_S3_BUCKET and the prefix in BACKUP_S3_PATH',
    ],
  ] as const) {
    const error = t.throws(() => parseEndpoint(raw)) as Error & { code: string };
    t.is(error.code, 'STRATA_CONFIG_INVALID_VALUE', raw);
    t.is(error.message, message, raw);
  }
});
