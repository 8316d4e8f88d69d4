/**
 * The internal API as another node sees it on the wire: the contract's paths and reply shapes, its
 * errors, its limits, its authentication and its log. The round trips through PeerClient are in
 * peer-client.test.ts.
 */
import { request } from 'node:http';
import test from 'ava';
import { peerCallPath } from '../../src/cluster/peer-calls.js';
import { BODY_LIMIT_BYTES } from '../../src/http/server.js';
import { MISSING_CLASS, startFakePeer } from './fake-peer.js';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

/** A reply's body, either shape of the contract. */
interface Wire {
  readonly result?: unknown;
  readonly error?: { readonly code?: string; readonly statusCode?: number; readonly message: string };
}

/** POSTs `body` (JSON-encoded unless a string) to `path` of `url`. */
async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Wire };
}

test('listens on the port it was given, a free one for 0, and answers a call 200 with {"result": ...}', async (t) => {
  const peer = await startFakePeer();
  t.teardown(() => peer.api.close());
  t.regex(peer.api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.not(new URL(peer.api.url).port, '0');
  const reply = await post(peer.api.url, peerCallPath('getObject'), { className: 'Article', id: 'x' });
  t.deepEqual([reply.status, reply.json], [200, { result: null }]);
  t.deepEqual(peer.calls, ['getObject']);
});

test("a handler's Strata error is answered with its status and serialized", async (t) => {
  const peer = await startFakePeer();
  t.teardown(() => peer.api.close());
  const reply = await post(peer.api.url, peerCallPath('getObject'), { className: MISSING_CLASS, id: 'x' });
  t.is(reply.status, 422);
  t.deepEqual(reply.json, {
    error: { code: 'STRATA_DB_CLASS_NOT_FOUND', statusCode: 422, message: 'class "Missing" not found in schema' },
  });
});

test('an error without a status is answered 500 with its message only, and logged at error', async (t) => {
  const peer = await startFakePeer({
    handlers: {
      shardStats: async () => {
        throw Object.assign(new Error('disk on fire'), { code: 'EIO' });
      },
    } as never,
  });
  t.teardown(() => peer.api.close());
  const reply = await post(peer.api.url, peerCallPath('shardStats'), {});
  t.deepEqual([reply.status, reply.json], [500, { error: { message: 'disk on fire' } }]);
  const logged = peer.logs.find((line) => line.level === 50);
  t.is(logged?.msg, 'internal call /cluster/v1/shardStats failed');
});

test('a path that names no call is answered 404 with a serialized error', async (t) => {
  const peer = await startFakePeer();
  t.teardown(() => peer.api.close());
  const unknown = await post(peer.api.url, '/cluster/v1/dropEverything', {});
  t.is(unknown.status, 404);
  t.like(unknown.json.error, { code: 'STRATA_CLUSTER_UNKNOWN_CALL', statusCode: 404 });
  t.regex(
    String(unknown.json.error?.message),
    /no call POST \/cluster\/v1\/dropEverything; every node of a cluster must/,
  );
  const get = await fetch(`${peer.api.url}${peerCallPath('getObject')}`);
  t.is(get.status, 404);
  t.like(((await get.json()) as { error: object }).error, { code: 'STRATA_CLUSTER_UNKNOWN_CALL' });
  t.deepEqual(peer.calls, []);
});

test('malformed JSON is answered 400, a body that is not an object of arguments 400 too', async (t) => {
  const peer = await startFakePeer();
  t.teardown(() => peer.api.close());
  const path = peerCallPath('getObject');
  const malformed = await post(peer.api.url, path, '{"className": "Article", ');
  t.is(malformed.status, 400);
  t.like(malformed.json.error, { code: 'STRATA_HTTP_INVALID_JSON', statusCode: 400 });
  for (const [body, problem] of [
    ['', 'the body is empty'],
    ['[]', 'the body is an array'],
    ['null', 'the body is null'],
    ['7', 'the body is number'],
  ] as const) {
    const reply = await post(peer.api.url, path, body);
    t.is(reply.status, 400, body);
    t.like(reply.json.error, { code: 'STRATA_CLUSTER_INVALID_ARGS', statusCode: 400 });
    t.true(String(reply.json.error?.message).includes(`internal call getObject: ${problem};`), problem);
  }
  t.deepEqual(peer.calls, []);
});

/** Sends a body of `bytes` to `url` with node:http, announcing its length or chunked; the reply. */
function postLarge(url: string, bytes: number, announce: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = request(
      {
        method: 'POST',
        hostname,
        port,
        path: peerCallPath('batchObjects'),
        headers: { 'content-type': 'application/json', ...(announce ? { 'content-length': bytes } : {}) },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    // The server may answer and close before the whole body is written: only the reply matters.
    req.on('error', reject);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const write = () => {
      while (sent < bytes) {
        const size = Math.min(chunk.length, bytes - sent);
        sent += size;
        if (!req.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
          req.once('drain', write);
          return;
        }
      }
      req.end();
    };
    write();
  });
}

test('a body over the public API limit is answered 413, announced or streamed', async (t) => {
  const peer = await startFakePeer();
  t.teardown(() => peer.api.close());
  for (const announce of [true, false]) {
    const reply = await postLarge(peer.api.url, BODY_LIMIT_BYTES + 1, announce);
    t.is(reply.status, 413);
    const { error } = JSON.parse(reply.body);
    t.like(error, { code: 'STRATA_CLUSTER_BODY_TOO_LARGE', statusCode: 413 });
    t.regex(
      error.message,
      /^internal call batchObjects: the body is larger than the limit of 67108864 bytes; send fewer objects per call/,
    );
  }
  t.deepEqual(peer.calls, []);
});

const AUTH = { username: 'strata', password: 'correct horse battery' };

test('with credentials, every request without them is refused 401, the handler never called', async (t) => {
  const peer = await startFakePeer({ auth: AUTH });
  t.teardown(() => peer.api.close());
  const path = peerCallPath('getObject');
  const args = { className: 'Article', id: 'x' };
  const refused: Array<[string, Record<string, string>]> = [
    ['no header', {}],
    ['wrong user', { authorization: basic(`admin:${AUTH.password}`) }],
    ['wrong password', { authorization: basic(`${AUTH.username}:correct horse`) }],
    ['the password as user', { authorization: basic(`${AUTH.password}:${AUTH.username}`) }],
    ['no colon', { authorization: basic(`${AUTH.username}${AUTH.password}`) }],
    ['not base64', { authorization: 'Basic !!!not-base64!!!' }],
    ['another scheme', { authorization: `Bearer ${AUTH.password}` }],
    ['no credentials', { authorization: 'Basic' }],
    ['credentials in clear', { authorization: `Basic ${AUTH.username}:${AUTH.password}` }],
  ];
  for (const [what, headers] of refused) {
    const reply = await post(peer.api.url, path, args, headers);
    t.is(reply.status, 401, what);
    t.deepEqual(
      reply.json,
      {
        error: {
          code: 'STRATA_CLUSTER_INTERNAL_UNAUTHORIZED',
          statusCode: 401,
          message:
            'the internal API needs the cluster credentials (CLUSTER_BASIC_AUTH_USERNAME / CLUSTER_BASIC_AUTH_PASSWORD); ' +
            'every node of a cluster must have the same',
        },
      },
      what,
    );
    t.regex(reply.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  }
  // Before the router too: an unauthenticated caller learns nothing of the calls there are.
  t.is((await post(peer.api.url, '/cluster/v1/nothing', {})).status, 401);
  t.deepEqual(peer.calls, [], 'no handler ran');

  for (const scheme of ['Basic', 'basic', 'BASIC']) {
    const authorization = `${scheme} ${Buffer.from(`${AUTH.username}:${AUTH.password}`).toString('base64')}`;
    const reply = await post(peer.api.url, path, args, { authorization });
    t.deepEqual([reply.status, reply.json], [200, { result: null }], scheme);
  }
  t.deepEqual(peer.calls, ['getObject', 'getObject', 'getObject']);
});

test('a password with a colon is the rest of the credentials after the first colon', async (t) => {
  const peer = await startFakePeer({ auth: { username: 'node', password: 'a:b:c' } });
  t.teardown(() => peer.api.close());
  const path = peerCallPath('shardStats');
  t.is((await post(peer.api.url, path, {}, { authorization: basic('node:a:b:c') })).status, 200);
  t.is((await post(peer.api.url, path, {}, { authorization: basic('node:a:b') })).status, 401);
  t.is((await post(peer.api.url, path, {}, { authorization: basic('node:a') })).status, 401);
});

test('each call is logged once at debug; at info only where the API listens', async (t) => {
  const peer = await startFakePeer();
  t.teardown(() => peer.api.close());
  t.deepEqual(
    peer.logs.map((line) => [line.level, line.msg]),
    [[30, `internal API listening at ${peer.api.url}`]],
  );
  peer.logs.length = 0;
  await post(peer.api.url, peerCallPath('getObject'), { className: 'Article', id: 'x' });
  await post(peer.api.url, peerCallPath('getObject'), { className: MISSING_CLASS, id: 'x' });
  t.deepEqual(
    peer.logs.map((line) => [line.level, line.msg, line.call, line.statusCode]),
    [
      [20, 'internal call answered', '/cluster/v1/getObject', 200],
      [20, 'internal call answered', '/cluster/v1/getObject', 422],
    ],
  );
});

test('after close() the port is free: nothing answers there', async (t) => {
  const peer = await startFakePeer();
  await peer.api.close();
  await t.throwsAsync(fetch(`${peer.api.url}${peerCallPath('shardStats')}`, { method: 'POST', body: '{}' }));
});
