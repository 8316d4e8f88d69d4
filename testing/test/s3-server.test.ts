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
