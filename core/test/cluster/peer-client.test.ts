/**
 * PeerClient against a real internal API on a free port (fake handlers), and against servers that
 * fail in each way a node can: closed, silent, cut off, answering what is not the contract.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import test from 'ava';
import { BULK_CALL_TIMEOUT_MS, PeerClient, SINGLE_CALL_TIMEOUT_MS } from '../../src/cluster/peer-client.js';
import type { ObjectInput } from '../../src/db/index.js';
import {
  ClassNotFoundError,
  NodeUnavailableError,
  PeerCredentialsError,
  reviveError,
  type SerializedError,
} from '../../src/errors.js';
import { MISSING_CLASS, startFakePeer, stored } from './fake-peer.js';

const AUTH = { username: 'strata', password: 'correct horse battery' };

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const input = (n: number, className = 'Article'): ObjectInput => ({
  class: className,
  id: uuid(n),
  properties: { title: `title ${n}`, rank: n },
  vector: [n, n / 2, n / 4],
});

/** A fake peer with credentials, a client with the same, and the peer as the client names it. */
async function peerAndClient(t: { teardown(fn: () => Promise<void>): void }) {
  const peer = await startFakePeer({ auth: AUTH });
  t.teardown(() => peer.api.close());
  const node = { name: 'node-b', internalUrl: peer.api.url };
  return { peer, node, client: new PeerClient({ auth: AUTH }) };
}

/** A listening server, closed at the end of the test; `sockets` are destroyed then. */
async function listening<S extends Server | HttpServer>(
  t: { teardown(fn: () => Promise<void>): void },
  server: S,
): Promise<string> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

/** A server that answers every request with `status`, `body` and `contentType`. */
const answering = (status: number, body: string, contentType = 'application/json') =>
  createHttpServer((_, res) => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  });

test('the timeouts: 5 s for one object or shard counts, 30 s for batches and lists', (t) => {
  t.is(SINGLE_CALL_TIMEOUT_MS, 5_000);
  t.is(BULK_CALL_TIMEOUT_MS, 30_000);
});

test('every call round-trips: arguments reach the handler, results come back as it answered them', async (t) => {
  const { peer, node, client } = await peerAndClient(t);
  const created = await client.call(node, 'createObject', { input: input(1) });
  t.deepEqual(created, stored(input(1)));
  t.deepEqual(await client.call(node, 'getObject', { className: 'Article', id: uuid(1) }), created);
  t.is(await client.call(node, 'getObject', { className: 'Article', id: uuid(2) }), null);

  const merged = await client.call(node, 'updateObject', {
    className: 'Article',
    id: uuid(1),
    input: { properties: { body: 'text' } },
    mode: 'merge',
  });
  t.deepEqual(merged.properties, { title: 'title 1', rank: 1, body: 'text' });
  t.is(merged.lastUpdateTimeUnix, 1_800_000_000_000);
  const replaced = await client.call(node, 'updateObject', {
    className: 'Article',
    id: uuid(1),
    input: { properties: { body: 'only' } },
    mode: 'replace',
  });
  t.deepEqual(replaced.properties, { body: 'only' });

  const batch = await client.call(node, 'batchObjects', { inputs: [input(2), input(3, MISSING_CLASS), input(4)] });
  t.deepEqual(batch[0], { object: stored(input(2)) });
  t.deepEqual(batch[2], { object: stored(input(4)) });
  const failed = batch[1] as { error: SerializedError };
  t.true(reviveError(failed.error) instanceof ClassNotFoundError, 'an error in a batch result is revivable');

  const listed = await client.call(node, 'listObjects', { className: 'Article', limit: 2 });
  t.deepEqual(
    listed.map((object) => object.id),
    [uuid(1), uuid(2)],
  );
  const after = await client.call(node, 'listObjects', { className: 'Article', after: uuid(1), limit: 10 });
  t.deepEqual(
    after.map((object) => object.id),
    [uuid(2), uuid(4)],
  );

  t.deepEqual(await client.call(node, 'shardStats', {}), [
    { class: 'Article', name: 'shard-0', node: 'node-b', objectCount: 3 },
  ]);
  t.deepEqual(await client.call(node, 'shardStats', { className: 'Other' }), []);

  t.true(await client.call(node, 'deleteObject', { className: 'Article', id: uuid(1) }));
  t.false(await client.call(node, 'deleteObject', { className: 'Article', id: uuid(1) }));
  t.deepEqual(peer.calls, [
    'createObject',
    'getObject',
    'getObject',
    'updateObject',
    'updateObject',
    'batchObjects',
    'listObjects',
    'listObjects',
    'shardStats',
    'shardStats',
    'deleteObject',
    'deleteObject',
  ]);
});

test("a handler's error arrives as its own class, with its status and message", async (t) => {
  const { node, client } = await peerAndClient(t);
  const expected = new ClassNotFoundError(MISSING_CLASS);
  for (const call of [
    () => client.call(node, 'getObject', { className: MISSING_CLASS, id: uuid(1) }),
    () => client.call(node, 'createObject', { input: input(1, MISSING_CLASS) }),
    () => client.call(node, 'listObjects', { className: MISSING_CLASS, limit: 1 }),
  ]) {
    const error = await t.throwsAsync(call());
    t.true(error instanceof ClassNotFoundError);
    t.true(ClassNotFoundError.is(error));
    t.like(error, { code: 'STRATA_DB_CLASS_NOT_FOUND', statusCode: 422, message: expected.message });
  }
});

test('credentials that differ between the nodes: an error that says so, 500 for the public client', async (t) => {
  const { peer, node } = await peerAndClient(t);
  for (const client of [
    new PeerClient(),
    new PeerClient({ auth: { ...AUTH, password: 'wrong' } }),
    new PeerClient({ auth: { ...AUTH, username: 'other' } }),
  ]) {
    const error = await t.throwsAsync(client.call(node, 'shardStats', {}));
    t.true(error instanceof PeerCredentialsError);
    t.like(error, { code: 'STRATA_CLUSTER_CREDENTIALS_MISMATCH', statusCode: 500 });
    t.regex(
      String(error?.message),
      /^node "node-b" refused this node's cluster credentials: .* differ between the nodes/,
    );
    t.false(String(error?.message).includes(AUTH.password));
  }
  t.deepEqual(peer.calls, []);
});

/** Asserts that `error` is a NodeUnavailableError naming node-b, shard-3 and Article with `reason`. */
function assertUnavailable(t: import('ava').ExecutionContext, error: unknown, reason: RegExp): void {
  t.true(error instanceof NodeUnavailableError, String(error));
  t.like(error, { code: 'STRATA_CLUSTER_NODE_UNAVAILABLE', statusCode: 500 });
  const message = String((error as Error).message);
  t.true(message.startsWith('node "node-b" (owner of shard "shard-3" of class "Article") is unavailable: '), message);
  t.true(message.endsWith('; the request can be retried once that node is back'), message);
  t.regex(message, reason);
}

const owner = { shard: 'shard-3', className: 'Article' };

test('a node that is down: NodeUnavailableError naming node, shard and class, at once', async (t) => {
  const peer = await startFakePeer();
  await peer.api.close();
  const started = performance.now();
  const error = await t.throwsAsync(
    new PeerClient().call(
      { name: 'node-b', internalUrl: peer.api.url },
      'getObject',
      { className: 'Article', id: 'x' },
      owner,
    ),
  );
  t.true(performance.now() - started < 1_000);
  assertUnavailable(t, error, /ECONNREFUSED/);
});

test('a node whose name does not resolve: NodeUnavailableError', async (t) => {
  const client = new PeerClient({ timeouts: { getObject: 2_000 } });
  const node = { name: 'node-b', internalUrl: 'http://node-b.invalid:7101' };
  const error = await t.throwsAsync(client.call(node, 'getObject', { className: 'Article', id: 'x' }, owner));
  assertUnavailable(t, error, /ENOTFOUND|EAI_AGAIN|no answer within/);
});

test('a node that accepts and never answers: NodeUnavailableError after the timeout, not later', async (t) => {
  const url = await listening(
    t,
    createServer(() => {}),
  );
  const client = new PeerClient({ timeouts: { listObjects: 200 } });
  const started = performance.now();
  const error = await t.throwsAsync(
    client.call({ name: 'node-b', internalUrl: url }, 'listObjects', { className: 'Article', limit: 10 }, owner),
  );
  const elapsed = performance.now() - started;
  t.true(elapsed >= 190 && elapsed < 1_500, `${elapsed} ms`);
  assertUnavailable(t, error, /: no answer within 200 ms;/);
});

test('a node that stops in the middle of its reply: NodeUnavailableError, at the timeout or at the cut', async (t) => {
  const stalls = await listening(
    t,
    createHttpServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"result": [');
    }),
  );
  const client = new PeerClient({ timeouts: { listObjects: 200 } });
  const args = { className: 'Article', limit: 10 };
  assertUnavailable(
    t,
    await t.throwsAsync(client.call({ name: 'node-b', internalUrl: stalls }, 'listObjects', args, owner)),
    /no answer within 200 ms/,
  );
  const cuts = await listening(
    t,
    createServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"result": [');
        setTimeout(() => socket.destroy(), 20);
      });
    }),
  );
  // The default timeout: the cut, not a timer, ends this call (a short one could fire first on a busy machine).
  const started = performance.now();
  assertUnavailable(
    t,
    await t.throwsAsync(new PeerClient().call({ name: 'node-b', internalUrl: cuts }, 'listObjects', args, owner)),
    /: the connection closed in the middle of the reply;/,
  );
  t.true(performance.now() - started < 2_000);
});

test('a reply that is not the contract JSON: NodeUnavailableError', async (t) => {
  const client = new PeerClient();
  const args = { className: 'Article', id: 'x' };
  const replies: Array<[string, HttpServer, RegExp]> = [
    ['not JSON', answering(200, '<html>hello</html>', 'text/html'), /it answered 200 with a body that is not JSON/],
    ['empty', answering(200, ''), /it answered 200 with an empty body/],
    ['no result', answering(200, '{"object": {}}'), /it answered 200 with JSON of another shape/],
    ['an error with 200', answering(200, '{"error": {"message": "m"}}'), /answered 200 with JSON of another shape/],
    // The public API's error shape, from a node whose internal address points at its public port.
    ['a public error', answering(404, '{"error": [{"message": "path not found"}]}'), /answered 404 with JSON of/],
    ['a closing Fastify', answering(503, '{"error": "Service Unavailable"}'), /answered 503 with JSON of/],
  ];
  for (const [what, server, reason] of replies) {
    const url = await listening(t, server);
    const error = await t.throwsAsync(client.call({ name: 'node-b', internalUrl: url }, 'getObject', args, owner));
    t.log(what);
    assertUnavailable(t, error, reason);
  }
});

test("the caller's signal aborts a call with its own reason, not NodeUnavailableError", async (t) => {
  const url = await listening(
    t,
    createServer(() => {}),
  );
  const controller = new AbortController();
  const reason = new Error('the client went away');
  setTimeout(() => controller.abort(reason), 50);
  const call = new PeerClient().call(
    { name: 'node-b', internalUrl: url },
    'shardStats',
    {},
    { signal: controller.signal },
  );
  t.is(await t.throwsAsync(call), reason);
  const already = new PeerClient().call(
    { name: 'n', internalUrl: url },
    'shardStats',
    {},
    { signal: controller.signal },
  );
  t.is(await t.throwsAsync(already), reason, 'a signal aborted before the call');
});

test('20,000 objects round-trip intact both ways: a batch streamed in, a list answered in slices', async (t) => {
  const { peer, node, client } = await peerAndClient(t);
  const inputs = Array.from({ length: 20_000 }, (_, n) => input(n));
  const written = await client.call(node, 'batchObjects', { inputs });
  t.is(written.length, 20_000);
  t.deepEqual(written[19_999], { object: stored(input(19_999)) });
  t.is(peer.objects.size, 20_000);

  const listed = await client.call(node, 'listObjects', { className: 'Article', limit: 100_000 });
  t.is(listed.length, 20_000);
  // As JSON: deepEqual of 20,000 objects takes seconds.
  t.true(JSON.stringify(listed) === JSON.stringify(inputs.map(stored)));
});
