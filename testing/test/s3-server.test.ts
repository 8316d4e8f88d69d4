import assert from 'node:assert/strict';
import test from 'ava';
import { startFaultProxy, startS3Server } from '../src/index.js';

const put = (url: string, body: string) => fetch(url, { method: 'PUT', body });

test('s3rver starts on a free port with its buckets, and the front aborts multipart uploads', async (t) => {
  const server = await startS3Server({ buckets: ['alpha'] });
  t.teardown(() => server.stop());
  t.is((await put(`${server.endpoint}/alpha/key`, 'stored')).status, 200);
  t.is(await (await fetch(`${server.endpoint}/alpha/key`)).text(), 'stored');
  t.deepEqual(await server.openUploads('alpha'), []);
  const missing = await fetch(`${server.endpoint}/alpha/key?uploadId=abc123`, { method: 'DELETE' });
  t.is(missing.status, 404);
  t.regex(await missing.text(), /NoSuchUpload/);
});

test('the fault proxy forwards, answers with injected statuses, and records what it did', async (t) => {
  const server = await startS3Server({ buckets: ['beta'] });
  t.teardown(() => server.stop());
  const proxy = await startFaultProxy(server.endpoint, ({ n }) =>
    n === 1 ? { kind: 'status', status: 503 } : n === 2 ? { kind: 'reset' } : undefined,
  );
  t.teardown(() => proxy.stop());
  t.is((await put(`${proxy.endpoint}/beta/key`, 'through')).status, 200, 'forwarded to s3rver');
  const injected = await fetch(`${proxy.endpoint}/beta/key`);
  t.is(injected.status, 503);
  t.regex(await injected.text(), /<Code>SlowDown<\/Code>/);
  await t.throwsAsync(fetch(`${proxy.endpoint}/beta/key`), undefined, 'a reset surfaces as a network error');
  t.deepEqual(
    proxy.requests.map((r) => [r.method, r.fault, r.status]),
    [
      ['PUT', undefined, 200],
      ['GET', 'status', 503],
      ['GET', 'reset', 0],
    ],
  );
});

test('the fault proxy can cut a response part-way', async (t) => {
  const server = await startS3Server({ buckets: ['gamma'] });
  t.teardown(() => server.stop());
  await put(`${server.endpoint}/gamma/key`, 'x'.repeat(100_000));
  const proxy = await startFaultProxy(server.endpoint, () => ({ kind: 'reset', afterBytes: 1000 }));
  t.teardown(() => proxy.stop());
  const response = await fetch(`${proxy.endpoint}/gamma/key`);
  t.is(response.status, 200);
  await t.throwsAsync(response.arrayBuffer(), undefined, 'the body breaks after 1000 bytes');
});

test('the fault proxy holds a request until told, then forwards it; one whose client left meanwhile is dropped', async (t) => {
  const server = await startS3Server({ buckets: ['eta'] });
  t.teardown(() => server.stop());
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const proxy = await startFaultProxy(server.endpoint, ({ method, url }) =>
    method === 'PUT' && url.endsWith('/held') ? { kind: 'hold', until: held } : undefined,
  );
  t.teardown(() => proxy.stop());
  const putting = put(`${proxy.endpoint}/eta/held`, 'late');
  const gone = new AbortController();
  const leaving = fetch(`${proxy.endpoint}/eta/gone/held`, { method: 'PUT', body: 'never', signal: gone.signal }).then(
    () => 'answered',
    (error: unknown) => (error as Error).name,
  );
  while (proxy.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  t.is((await put(`${proxy.endpoint}/eta/free`, 'at once')).status, 200, 'others go through while two are held');
  t.is((await fetch(`${server.endpoint}/eta/held`)).status, 404, 'not forwarded while held');
  // As a killed process would: the client goes away while its request is held.
  gone.abort();
  t.is(await leaving, 'AbortError');
  // Time for the proxy to see the connection close (50 ms was too little on a loaded machine).
  await new Promise((resolve) => setTimeout(resolve, 500));
  release();
  t.is((await putting).status, 200);
  t.is(await (await fetch(`${server.endpoint}/eta/held`)).text(), 'late', 'forwarded untouched once let go');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is((await fetch(`${server.endpoint}/eta/gone/held`)).status, 404, 'a request whose client left is not forwarded');
  t.deepEqual(
    proxy.requests.map((r) => [r.method, r.url, r.fault, r.status]),
    [
      ['PUT', '/eta/held', 'hold', 200],
      ['PUT', '/eta/gone/held', 'hold', 0],
      ['PUT', '/eta/free', undefined, 200],
    ],
  );
});

/** Starts a multipart upload of `key` in `bucket` the way a client does; resolves with its upload id. */
async function startUpload(endpoint: string, bucket: string, key: string): Promise<string> {
  const path = key.split('/').map(encodeURIComponent).join('/');
  const answer = await (await fetch(`${endpoint}/${bucket}/${path}?uploads`, { method: 'POST' })).text();
  return /<UploadId>([0-9a-f]+)<\/UploadId>/.exec(answer)?.[1] ?? assert.fail(`no upload id in ${answer}`);
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (text: string) => text.replace(/&(\w+);/g, (entity, name: string) => entities[name] ?? entity);

/** One ListMultipartUploads answer, read back as the fields a client reads. */
async function listUploads(endpoint: string, bucket: string, query: string) {
  const response = await fetch(`${endpoint}/${bucket}?uploads${query}`);
  const body = await response.text();
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
  const uploads = [...body.matchAll(/<Upload><Key>([^<]*)<\/Key><UploadId>([^<]*)<\/UploadId>/g)].map(
    ([, key, uploadId]) => ({ key: unescapeXml(key ?? ''), uploadId }),
  );
  return { status: response.status, body, field, uploads };
}

test('the front lists multipart uploads in progress as S3 does: by prefix, in pages, after the markers', async (t) => {
  const server = await startS3Server({ buckets: ['delta'] });
  t.teardown(() => server.stop());
  const keys = ['bk/a&b<c>', 'bk/node1/chunk-1', 'bk/node1/chunk-1', 'bk/node1/chunk-2', 'bk/z', 'other/x'];
  const started = [];
  for (const key of keys) started.push({ key, uploadId: await startUpload(server.endpoint, 'delta', key) });
  const expected = started
    .filter(({ key }) => key.startsWith('bk/'))
    .sort((a, b) => Buffer.compare(Buffer.from(`${a.key}\0${a.uploadId}`), Buffer.from(`${b.key}\0${b.uploadId}`)));

  const whole = await listUploads(server.endpoint, 'delta', '&prefix=bk%2F');
  t.is(whole.status, 200);
  t.regex(whole.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n?<ListMultipartUploadsResult xmlns=/);
  t.deepEqual(whole.uploads, expected);
  t.is(whole.field('Prefix'), 'bk/');
  t.is(whole.field('MaxUploads'), '1000');
  t.is(whole.field('IsTruncated'), 'false');
  t.is(whole.field('NextKeyMarker'), undefined, 'no next marker on the last page');
  t.regex(whole.body, /<Upload>.*<Initiator><ID>\d+<\/ID><DisplayName>S3rver<\/DisplayName><\/Initiator>/);
  t.regex(whole.body, /<StorageClass>STANDARD<\/StorageClass><Initiated>\d{4}-\d\d-\d\dT[\d:.]+Z<\/Initiated>/);

  // Two at a time: the second page starts between the two uploads of one key, by upload id.
  const paged = [];
  let markers = '';
  for (let pages = 1; ; pages++) {
    const page = await listUploads(server.endpoint, 'delta', `&prefix=bk%2F&max-uploads=2${markers}`);
    paged.push(...page.uploads);
    if (page.field('IsTruncated') === 'false') {
      t.is(pages, 3);
      break;
    }
    const last = page.uploads.at(-1);
    t.is(page.field('NextUploadIdMarker'), last?.uploadId);
    markers = `&key-marker=${encodeURIComponent(last?.key ?? '')}&upload-id-marker=${page.field('NextUploadIdMarker')}`;
  }
  t.deepEqual(paged, expected, 'pages neither skip nor repeat an upload');

  const afterKey = await listUploads(server.endpoint, 'delta', '&key-marker=bk%2Fnode1%2Fchunk-1');
  t.deepEqual(
    afterKey.uploads.map((u) => u.key),
    ['bk/node1/chunk-2', 'bk/z', 'other/x'],
    'a key marker alone starts after every upload of that key',
  );
  const ignored = await listUploads(server.endpoint, 'delta', `&upload-id-marker=${expected[0]?.uploadId}`);
  t.is(ignored.uploads.length, keys.length, 'an upload id marker without a key marker is ignored');
});

test('an aborted upload is no longer listed, and parts or a completion sent to it answer NoSuchUpload', async (t) => {
  const server = await startS3Server({ buckets: ['epsilon'] });
  t.teardown(() => server.stop());
  const uploadId = await startUpload(server.endpoint, 'epsilon', 'bk/chunk-1');
  const part = (id: string) =>
    fetch(`${server.endpoint}/epsilon/bk/chunk-1?partNumber=1&uploadId=${id}`, { method: 'PUT', body: 'part' });
  t.is((await part(uploadId)).status, 200, 'a part of an upload in progress reaches s3rver');
  t.is((await fetch(`${server.endpoint}/epsilon/bk/chunk-1?uploadId=${uploadId}`, { method: 'DELETE' })).status, 204);
  t.deepEqual((await listUploads(server.endpoint, 'epsilon', '')).uploads, []);
  const late = await part(uploadId);
  t.is(late.status, 404);
  t.regex(await late.text(), /<Code>NoSuchUpload<\/Code>/);
  const complete = await fetch(`${server.endpoint}/epsilon/bk/chunk-1?uploadId=${uploadId}`, {
    method: 'POST',
    body: '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>',
  });
  t.is(complete.status, 404);
  t.regex(await complete.text(), /<Code>NoSuchUpload<\/Code>/);
  t.deepEqual(await server.openUploads('epsilon'), [], 'the late part did not bring the upload back');
});

test('ListMultipartUploads answers a missing bucket, a bad max-uploads and unsupported parameters as S3 does', async (t) => {
  const server = await startS3Server({ buckets: ['zeta'] });
  t.teardown(() => server.stop());
  const cases: ReadonlyArray<[string, string, number, string]> = [
    ['no-such-bucket', '', 404, 'NoSuchBucket'],
    ['zeta', '&max-uploads=0', 400, 'InvalidArgument'],
    ['zeta', '&max-uploads=ten', 400, 'InvalidArgument'],
    ['zeta', '&delimiter=%2F', 501, 'NotImplemented'],
    ['zeta', '&encoding-type=url', 501, 'NotImplemented'],
  ];
  for (const [bucket, query, status, code] of cases) {
    const answer = await listUploads(server.endpoint, bucket, query);
    t.is(answer.status, status, `${bucket}?uploads${query}`);
    t.is(answer.field('Code'), code, `${bucket}?uploads${query}`);
  }
});
