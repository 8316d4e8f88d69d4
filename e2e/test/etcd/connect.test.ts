/**
 * connectEtcd: a client once etcd answers, and EtcdUnreachableError within seconds when it does not,
 * whether nothing listens on the port or something listens and never answers.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { connectEtcd, EtcdUnreachableError } from '@strata/core/cluster';
import test from 'ava';
import { freshEtcd } from './fixtures.js';

/** A port of 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server that accepts connections and never says a word: a hung etcd, or a firewall's black hole. */
async function silentServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

test('connectEtcd(endpoints) resolves with a client of the etcd that answers there', async (t) => {
  const etcd = await freshEtcd(t);
  const client = await connectEtcd([etcd.endpoint]);
  t.teardown(() => client.close());
  await client.put('strata/connect').value('ok');
  t.is(await client.get('strata/connect').string(), 'ok');
});

test('connectEtcd to a closed port throws EtcdUnreachableError within 5 s, naming the endpoint and the fix', async (t) => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const start = Date.now();
  const error = await t.throwsAsync(connectEtcd([endpoint]), { instanceOf: EtcdUnreachableError });
  const elapsed = Date.now() - start;
  t.log(`refused after ${elapsed} ms`);
  t.true(elapsed < 5000);
  t.is(error?.code, 'STRATA_CLUSTER_ETCD_UNREACHABLE');
  t.is(error?.statusCode, 500);
  t.true(error?.message.includes(endpoint), error?.message);
  t.true(error?.message.includes('CLUSTER_ETCD_ENDPOINTS'), error?.message);
  t.true(error?.message.includes('start etcd'), error?.message);
});

test('connectEtcd to a server that never answers throws EtcdUnreachableError within 5 s', async (t) => {
  const { server, port, sockets } = await silentServer();
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const start = Date.now();
  await t.throwsAsync(connectEtcd([`http://127.0.0.1:${port}`]), { instanceOf: EtcdUnreachableError });
  const elapsed = Date.now() - start;
  t.log(`gave up after ${elapsed} ms`);
  t.true(elapsed < 5000);
});

test('connectEtcd with no endpoint throws EtcdUnreachableError at once', async (t) => {
  const error = await t.throwsAsync(connectEtcd([]), { instanceOf: EtcdUnreachableError });
  t.true(error?.message.includes('CLUSTER_ETCD_ENDPOINTS'));
});
