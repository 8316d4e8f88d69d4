import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import anyTest, { type TestFn } from 'ava';
import { type GcsEmulator, startGcsEmulator } from '../src/index.js';

const test = anyTest as TestFn<{ emulator: GcsEmulator }>;

test.before(async (t) => {
  t.context.emulator = await startGcsEmulator({ buckets: ['uploads'] });
});
test.after.always((t) => t.context.emulator.stop());

/** Opens a resumable upload session for `name`; returns its URL. */
async function openSession(emulator: GcsEmulator, name: string): Promise<string> {
  const response = await fetch(
    `${emulator.endpoint}/upload/storage/v1/b/uploads/o?uploadType=resumable&name=${encodeURIComponent(name)}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
  );
  const location = response.headers.get('location');
  if (response.status !== 200 || location === null) throw new Error(`no session: ${response.status}`);
  return location;
}

const put = (session: string, range: string, body: Uint8Array = new Uint8Array()) =>
  fetch(session, { method: 'PUT', headers: { 'content-range': range }, body });

async function media(emulator: GcsEmulator, name: string): Promise<Buffer> {
  const response = await fetch(`${emulator.endpoint}/storage/v1/b/uploads/o/${encodeURIComponent(name)}?alt=media`);
  return Buffer.from(await response.arrayBuffer());
}

const bytes = (size: number, seed: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * seed) % 251));

test('a chunked resumable upload answers 308 with the persisted range until its last chunk', async (t) => {
  const { emulator } = t.context;
  const data = bytes(300_000, 7);
  const session = await openSession(emulator, 'chunked');
  const first = await put(session, 'bytes 0-262143/*', data.subarray(0, 262_144));
  t.is(first.status, 308);
  t.is(first.headers.get('range'), 'bytes=0-262143');
  const query = await put(session, 'bytes */*');
  t.is(query.status, 308);
  t.is(query.headers.get('range'), 'bytes=0-262143');
  // A resend from an earlier offset: the bytes already persisted are skipped, as GCS does.
  const last = await put(session, 'bytes 200000-299999/300000', data.subarray(200_000));
  t.is(last.status, 200);
  t.is(((await last.json()) as { size: string }).size, '300000');
  t.deepEqual(await media(emulator, 'chunked'), data);
  const again = await put(session, 'bytes */300000');
  t.is(again.status, 200, 'a finished session answers a status query with the object');
});

test('bytes that arrived before a connection broke stay persisted, and the upload resumes after them', async (t) => {
  const { emulator } = t.context;
  const data = bytes(1_000_000, 13);
  const session = await openSession(emulator, 'broken');
  const cut = request(session, { method: 'PUT', headers: { 'content-range': 'bytes 0-*/*' } });
  cut.on('error', () => {});
  await new Promise((resolve) => cut.write(data.subarray(0, 400_000), resolve));
  await sleep(100);
  cut.destroy();
  // The server may still be reading what was sent when the status query comes.
  let range: string | null = null;
  for (let i = 0; i < 50 && range !== 'bytes=0-399999'; i++, await sleep(20)) {
    range = (await put(session, 'bytes */*')).headers.get('range');
  }
  t.is(range, 'bytes=0-399999');
  const rest = await put(session, 'bytes 400000-*/*', data.subarray(400_000));
  t.is(rest.status, 200);
  t.deepEqual(await media(emulator, 'broken'), data);
});

test('a resumable upload has no size cap (the emulator alone refuses bodies over 130 MB)', async (t) => {
  const { emulator } = t.context;
  const session = await openSession(emulator, 'large');
  const size = 140 * 1024 * 1024;
  const response = await put(session, `bytes 0-${size - 1}/${size}`, Buffer.alloc(size, 1));
  t.is(response.status, 200);
  t.is(((await response.json()) as { size: string }).size, String(size));
});

test('malformed ranges, gaps and unknown sessions get JSON API errors', async (t) => {
  const { emulator } = t.context;
  const session = await openSession(emulator, 'errors');
  const malformed = await put(session, 'bytes=0-1');
  t.is(malformed.status, 400);
  t.regex(((await malformed.json()) as { error: { message: string } }).error.message, /Malformed Content-Range/);
  const gap = await put(session, 'bytes 10-19/*', bytes(10, 3));
  t.is(gap.status, 400);
  t.regex(((await gap.json()) as { error: { message: string } }).error.message, /starts at 10 but 0 bytes/);
  const unknown = await put(`${emulator.endpoint}/upload/storage/v1/b/uploads/o?upload_id=nope`, 'bytes */*');
  t.is(unknown.status, 404);
});
