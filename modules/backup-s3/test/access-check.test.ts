import { createServer } from 'node:net';
import { type S3Server, startFaultProxy, startS3Server } from '@strata/testing';
import anyTest, { type TestFn } from 'ava';
import { loadS3, rejection } from './helpers.js';

const test = anyTest as TestFn<{ server: S3Server }>;

test.before(async (t) => {
  t.context.server = await startS3Server({ buckets: ['present'] });
});
test.after.always((t) => t.context.server.stop());

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** checkAccess() of backup-s3 loaded with the server's settings overridden by `env`. */
async function accessError(t: { context: { server: S3Server } }, env: Record<string, string>) {
  const { backend, close } = await loadS3({ ...t.context.server.env('present'), ...env });
  try {
    return await rejection(backend.checkAccess());
  } finally {
    await close();
  }
}

test('a usable bucket passes the check, and the source of the credentials is logged, never the secret', async (t) => {
  const { backend, logs, close } = await loadS3(t.context.server.env('present'));
  t.teardown(close);
  await backend.checkAccess();
  const line = logs.find((l) => l.message?.includes('signs requests with'));
  t.truthy(line, 'the credential source is logged');
  t.regex(line?.message ?? '', /static keys from AWS_ACCESS_KEY_ID/);
  t.false(JSON.stringify(logs).includes('S3RVER'), 'no key or secret in any log line');
});

test("Weaviate's AWS_ACCESS_KEY and AWS_SECRET_KEY work as the key pair", async (t) => {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...env } = t.context.server.env('present');
  const { backend, close } = await loadS3({
    ...env,
    AWS_ACCESS_KEY: AWS_ACCESS_KEY_ID as string,
    AWS_SECRET_KEY: AWS_SECRET_ACCESS_KEY as string,
  });
  t.teardown(close);
  await t.notThrowsAsync(backend.checkAccess());
});

test('a host:port endpoint with BACKUP_S3_USE_SSL=false is reached over http', async (t) => {
  const { backend, meta, close } = await loadS3({
    ...t.context.server.env('present'),
    BACKUP_S3_ENDPOINT: t.context.server.endpoint.replace('http://', ''),
    BACKUP_S3_USE_SSL: 'FALSE',
    BACKUP_S3_PATH: 'team/a/',
  });
  t.teardown(close);
  await t.notThrowsAsync(backend.checkAccess());
  t.is(backend.homePath('b1'), 's3://present/team/a/b1');
  t.deepEqual(meta, {
    endpoint: t.context.server.endpoint.replace('http://', ''),
    bucket: 'present',
    path: 'team/a/',
    useSSL: false,
    region: 'us-east-1',
  });
});

test('a missing bucket names the bucket and endpoint and says to create it', async (t) => {
  const error = await accessError(t, { BACKUP_S3_BUCKET: 'absent' });
  t.is(error.code, 'STRATA_S3_BUCKET_NOT_FOUND');
  t.is(
    error.message,
    `backup-s3: bucket "absent" at ${t.context.server.endpoint} does not exist. Create the bucket first (Strata ` +
      `never creates buckets), or set BACKUP_S3_BUCKET (or the request's config.Bucket) to an existing one.`,
  );
});

test('an unknown key id is refused with a message naming bucket, endpoint and the credentials to check', async (t) => {
  const error = await accessError(t, { AWS_ACCESS_KEY_ID: 'NOBODY', AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
  t.is(error.code, 'STRATA_S3_ACCESS_DENIED');
  t.true(error.message.startsWith(`backup-s3: bucket "present" at ${t.context.server.endpoint} refused`));
  t.true(error.message.includes('InvalidAccessKeyId (HTTP 403)'), error.message);
  t.true(error.message.includes('Check the credentials (static keys from AWS_ACCESS_KEY_ID'), error.message);
  t.false(error.message.includes('not-the-secret'), 'the secret is never shown');
});

/** S3's answer to a request it refuses, as AWS sends it, replayed by the proxy. */
const refusal = (code: string) => ({
  kind: 'reply' as const,
  status: 403,
  headers: { 'content-type': 'application/xml' },
  body: `<Error><Code>${code}</Code><Message>refused</Message></Error>`,
});

// s3rver checks key ids but not SigV4 signatures or policies, so these two answers are replayed.
for (const code of ['SignatureDoesNotMatch', 'AccessDenied']) {
  test(`${code} (a wrong secret, a policy) is reported as refused access`, async (t) => {
    const proxy = await startFaultProxy(t.context.server.endpoint, () => refusal(code));
    t.teardown(() => proxy.stop());
    const error = await accessError(t, { BACKUP_S3_ENDPOINT: proxy.endpoint });
    t.is(error.code, 'STRATA_S3_ACCESS_DENIED');
    t.true(error.message.includes(`${code} (HTTP 403): refused`), error.message);
    t.is(proxy.requests.length, 1, 'a refusal is not retried');
  });
}

test('an unreachable endpoint says so, after retrying, and names what to check', async (t) => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const error = await accessError(t, { BACKUP_S3_ENDPOINT: endpoint, BACKUP_S3_MAX_ATTEMPTS: '2' });
  t.is(error.code, 'STRATA_S3_UNREACHABLE');
  t.regex(error.message, /^backup-s3: cannot reach bucket "present" at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/);
  t.true(error.message.includes('after 2 attempts'), error.message);
  t.true(error.message.includes('Check BACKUP_S3_ENDPOINT, BACKUP_S3_USE_SSL'), error.message);
});

// S3's two answers to a request signed for the wrong region, replayed by the proxy as AWS sends them.
const wrongRegion: ReadonlyArray<
  readonly [string, { status: number; headers: Record<string, string>; body: string }, string]
> = [
  [
    'a redirect to the bucket region',
    {
      status: 301,
      headers: { 'content-type': 'application/xml', 'x-amz-bucket-region': 'eu-west-1' },
      body: '<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>',
    },
    'eu-west-1',
  ],
  [
    'a malformed authorization header',
    {
      status: 400,
      headers: { 'content-type': 'application/xml' },
      body: "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-central-1'</Message><Region>eu-central-1</Region></Error>",
    },
    'eu-central-1',
  ],
];
for (const [title, reply, actual] of wrongRegion) {
  test(`a wrong region (${title}) names the bucket's region and AWS_REGION`, async (t) => {
    const proxy = await startFaultProxy(t.context.server.endpoint, () => ({ kind: 'reply', ...reply }));
    t.teardown(() => proxy.stop());
    const error = await accessError(t, { BACKUP_S3_ENDPOINT: proxy.endpoint });
    t.is(error.code, 'STRATA_S3_WRONG_REGION');
    t.is(
      error.message,
      `backup-s3: bucket "present" at ${proxy.endpoint} is not in region us-east-1 but in ${actual}. ` +
        `Set AWS_REGION to ${actual}.`,
    );
  });
}

test('persistent 503s fail the check with the status and the number of attempts', async (t) => {
  const proxy = await startFaultProxy(t.context.server.endpoint, () => ({ kind: 'status', status: 503 }));
  t.teardown(() => proxy.stop());
  const error = await accessError(t, { BACKUP_S3_ENDPOINT: proxy.endpoint, BACKUP_S3_MAX_ATTEMPTS: '3' });
  t.is(error.code, 'STRATA_S3_REQUEST_FAILED');
  t.regex(
    error.message,
    /writing the access check probe in bucket "present" at .* failed: SlowDown \(HTTP 503\) after 3 attempts/,
  );
  t.is(proxy.requests.length, 3, 'each attempt reached the server');
});
