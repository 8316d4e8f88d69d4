import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type ClusterNode, startCluster } from '@strata/testing';
import test from 'ava';
import { ARTICLE, waitFor } from '../../src/cluster-helpers.js';

const strataBin = join(
  dirname(createRequire(import.meta.url).resolve('@strata/core/package.json')),
  'bin',
  'strata.js',
);

/** The internal API's URL, from the line the node logs once it joined. */
function internalUrl(node: ClusterNode): string {
  const match = /Strata internal API listening on (http:\/\/[^"\s]+)/.exec(node.output());
  if (match?.[1] === undefined) throw new Error(`no internal API line in:\n${node.output()}`);
  return match[1];
}

test('a second node with the name of a live node is refused, saying so', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const error = await t.throwsAsync(cluster.startNode('node1'));
  t.regex(error?.message ?? '', /exited \(1\)/);
  t.regex(error?.message ?? '', /a node named node1 is already live in the cluster/);
  t.is((await cluster.nodes[0]?.request('GET', '/v1/.well-known/ready'))?.status, 200, 'the live one is untouched');
});

test('a node restarted on its data path after a crash takes its name back at once', async (t) => {
  const cluster = await startCluster({ nodes: 2, leaseTtlSeconds: 30 });
  t.teardown(() => cluster.stop());
  const node2 = cluster.nodes[1] as ClusterNode;
  await node2.kill('SIGKILL');
  const started = Date.now();
  await node2.start();
  t.true(Date.now() - started < 30_000, 'not after the 30 s lease');
  const { body } = await (cluster.nodes[0] as ClusterNode).request('GET', '/v1/nodes');
  t.deepEqual(
    body.nodes.map((n: { name: string; status: string }) => `${n.name} ${n.status}`),
    ['node1 HEALTHY', 'node2 HEALTHY'],
  );
});

test('the internal API refuses calls without the cluster credentials; the public API keys hold on every node', async (t) => {
  const cluster = await startCluster({
    nodes: 2,
    env: {
      CLUSTER_BASIC_AUTH_USERNAME: 'cluster',
      CLUSTER_BASIC_AUTH_PASSWORD: 'cluster-secret',
      AUTHENTICATION_APIKEY_ENABLED: 'true',
      AUTHENTICATION_APIKEY_ALLOWED_KEYS: 'public-key',
    },
  });
  t.teardown(() => cluster.stop());
  const bearer = { authorization: 'Bearer public-key' };
  for (const node of cluster.nodes) {
    const call = (headers: Record<string, string>) =>
      fetch(`${internalUrl(node)}/cluster/v1/shardStats`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    t.is((await call({})).status, 401, `${node.name}: no credentials`);
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    t.is((await call({ authorization: basic('cluster', 'wrong') })).status, 401, `${node.name}: wrong password`);
    t.is((await call({ authorization: basic('cluster', 'cluster-secret') })).status, 200);
    // The node serves its backup participant to coordinators on other nodes.
    const participant = await fetch(`${internalUrl(node)}/cluster/v1/participantStatus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic('cluster', 'cluster-secret') },
      body: JSON.stringify({ operation: { kind: 'backup', id: 'none-yet', backend: 'backup-s3', scope: {} } }),
    });
    t.deepEqual([participant.status, await participant.json()], [200, { result: null }]);
    t.is((await node.request('GET', '/v1/schema')).status, 401, `${node.name}: no API key`);
    t.is((await node.request('GET', '/v1/schema', undefined, bearer)).status, 200);
  }
  // Nodes still talk to each other with the credentials.
  const [node1, node2] = cluster.nodes as [ClusterNode, ClusterNode];
  t.is((await node1.request('POST', '/v1/schema', ARTICLE, bearer)).status, 200);
  await waitFor('Article on node2', 2000, async () =>
    (await node2.request('GET', '/v1/schema/Article', undefined, bearer)).status === 200 ? true : undefined,
  );
  const { body } = await node2.request('GET', '/v1/nodes', undefined, bearer);
  t.deepEqual(
    body.nodes.map((n: { status: string }) => n.status),
    ['HEALTHY', 'HEALTHY'],
  );
  t.false(node1.output().includes('cluster-secret'), 'the password is never logged');
});

test('etcd unreachable at start-up: the node says so and exits non-zero', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as { port: number };
  await new Promise((resolve) => closed.close(resolve));
  const dataPath = await mkdtemp(join(tmpdir(), 'strata-no-etcd-'));
  t.teardown(() => rm(dataPath, { recursive: true, force: true }));
  const child = spawn(process.execPath, [strataBin, 'serve', '--port', '0'], {
    env: {
      PATH: process.env.PATH ?? '',
      PERSISTENCE_DATA_PATH: dataPath,
      CLUSTER_ETCD_ENDPOINTS: `http://127.0.0.1:${port}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data) => (output += data));
  child.stderr.on('data', (data) => (output += data));
  const started = Date.now();
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.log(`exited ${code} after ${Date.now() - started} ms`);
  t.is(code, 1);
  t.regex(output, new RegExp(`etcd.*127\\.0\\.0\\.1:${port}`));
  t.notRegex(output, /Strata node listening/);
});

test('a class asking for replication is refused with 422 on a cluster too', async (t) => {
  const cluster = await startCluster({ nodes: 2 });
  t.teardown(() => cluster.stop());
  const reply = await (cluster.nodes[1] as ClusterNode).request('POST', '/v1/schema', {
    class: 'Replicated',
    replicationConfig: { factor: 2 },
  });
  t.is(reply.status, 422);
  t.regex(reply.body.error[0].message, /replicationConfig\.factor 2 is not supported/);
});
