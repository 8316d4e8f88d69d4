/**
 * Membership on a real etcd: join and leave, one live node per name (another data path waits and is
 * refused, the same data path takes over at once), a crashed member vanishing with its lease, the
 * list of nodes ever joined, and one cluster id for every node of one etcd.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clusterId, Membership, memberKey, NodeNameLiveError } from '@strata/core/cluster';
import { waitForLine } from '@strata/testing';
import test from 'ava';
import { clientOf, freshEtcd, info, joined, Reported, TTL_SECONDS, waitFor } from './fixtures.js';

test('join() puts the member key with a lease and the node key; leave() removes the member key at once', async (t) => {
  const etcd = await freshEtcd(t);
  const client = await clientOf(t, etcd);
  const reported = new Reported();
  const membership = await joined(t, client, info('node-a'), { dataPathId: 'dp-a', onError: reported.onError });
  t.true(membership.healthy);
  t.deepEqual(
    membership.members().map((m) => m.name),
    ['node-a'],
  );
  t.deepEqual(membership.known(), ['node-a']);
  const [kv] = (await client.get(memberKey('node-a')).exec()).kvs;
  t.not(kv?.lease, '0', 'the member key is leased');
  t.like(JSON.parse(kv?.value.toString() ?? '{}'), { ...info('node-a'), dataPathId: 'dp-a' });
  t.truthy(await client.get('strata/nodes/node-a').string());

  const start = Date.now();
  await membership.leave();
  t.log(`leave took ${Date.now() - start} ms`);
  t.is(await client.get(memberKey('node-a')).string(), null, 'revoking the lease deleted the key');
  t.truthy(await client.get('strata/nodes/node-a').string(), 'the node key stays');
  t.false(membership.healthy);
  await membership.leave();
  t.deepEqual(reported.errors, []);
});

test('members() and known() follow other nodes joining and leaving, with change events', async (t) => {
  const etcd = await freshEtcd(t);
  const [one, two] = [await clientOf(t, etcd), await clientOf(t, etcd)];
  const a = await joined(t, one, info('node-a'), { dataPathId: 'dp-a' });
  const seen: string[][] = [];
  a.on('members', (members) => seen.push(members.map((m) => m.name)));
  const known: string[][] = [];
  a.on('known', (names) => known.push([...names]));
  const b = await joined(t, two, info('node-b', 7100), { dataPathId: 'dp-b' });
  const joinedIn = await waitFor(t, 'a sees b', () => a.members().length === 2, 3000);
  t.log(`a saw b join after ${joinedIn} ms`);
  t.deepEqual(
    a.members().map((m) => [m.name, m.internalUrl]),
    [
      ['node-a', 'http://127.0.0.1:7000'],
      ['node-b', 'http://127.0.0.1:7100'],
    ],
  );
  t.deepEqual(a.known(), ['node-a', 'node-b']);
  await b.leave();
  const leftIn = await waitFor(t, 'a sees b leave', () => a.members().length === 1, 3000);
  t.log(`a saw b leave after ${leftIn} ms`);
  t.deepEqual(a.known(), ['node-a', 'node-b'], 'a node that left is still known');
  t.deepEqual(seen.at(-1), ['node-a']);
  t.true(seen.some((names) => names.length === 2));
  t.deepEqual(known.at(-1), ['node-a', 'node-b']);
});

test('a listener that throws is reported, and the others are still called', async (t) => {
  const etcd = await freshEtcd(t);
  const [one, two] = [await clientOf(t, etcd), await clientOf(t, etcd)];
  const reported = new Reported();
  const a = await joined(t, one, info('node-a'), { dataPathId: 'dp-a', onError: reported.onError });
  a.on('members', () => {
    throw new Error('listener broke');
  });
  let count = 0;
  const off = a.on('members', (members) => {
    count = members.length;
  });
  await joined(t, two, info('node-b', 7100), { dataPathId: 'dp-b' });
  await waitFor(t, 'b seen', () => count === 2, 3000);
  t.true(reported.errors.some((error) => error instanceof Error && error.message === 'listener broke'));
  off();
});

test('a second join with the same name and another data path waits about TTL + 2 s, then throws NodeNameLiveError', async (t) => {
  const etcd = await freshEtcd(t);
  const [one, two] = [await clientOf(t, etcd), await clientOf(t, etcd)];
  const first = await joined(t, one, info('node-a'), { dataPathId: 'dp-1' });
  const start = Date.now();
  const error = await t.throwsAsync(
    Membership.join(two, info('node-a', 7200), { ttlSeconds: TTL_SECONDS, dataPathId: 'dp-2' }),
    {
      instanceOf: NodeNameLiveError,
    },
  );
  const waited = Date.now() - start;
  t.log(`refused after ${waited} ms`);
  t.true(waited >= TTL_SECONDS * 1000 + 2000 - 100, `waited ${waited} ms`);
  t.is(error?.code, 'STRATA_CLUSTER_NODE_NAME_LIVE');
  t.true(error?.message.includes('http://127.0.0.1:7000'), error?.message);
  t.true(error?.message.includes('CLUSTER_HOSTNAME'), error?.message);
  t.true(first.healthy, 'the live node kept its key');
  const [kv] = (await one.get(memberKey('node-a')).exec()).kvs;
  t.is(JSON.parse(kv?.value.toString() ?? '{}').dataPathId, 'dp-1');
  t.is((await one.lease(TTL_SECONDS).grant()) !== undefined, true, 'etcd still answers');
});

test('a join with the same data path as the live key takes it over at once', async (t) => {
  const etcd = await freshEtcd(t);
  const [one, two] = [await clientOf(t, etcd), await clientOf(t, etcd)];
  // The previous process of this data path: its key is still live (as after a crash, within the TTL).
  const previous = await joined(t, one, info('node-a'), { dataPathId: 'dp-1' });
  const start = Date.now();
  const next = await joined(t, two, info('node-a', 7300), { dataPathId: 'dp-1' });
  const took = Date.now() - start;
  t.log(`took over after ${took} ms`);
  t.true(took < 1000, `took ${took} ms`);
  t.true(next.healthy);
  const [kv] = (await two.get(memberKey('node-a')).exec()).kvs;
  t.is(JSON.parse(kv?.value.toString() ?? '{}').internalUrl, 'http://127.0.0.1:7300');
  // The previous process's lease no longer holds the key: revoking it leaves the key alone.
  await previous.leave();
  t.not(await two.get(memberKey('node-a')).string(), null);
});

test('a member whose process died without revoking vanishes within the TTL and a little', async (t) => {
  const etcd = await freshEtcd(t);
  const observer = await joined(t, await clientOf(t, etcd), info('node-a'), { dataPathId: 'dp-a' });
  // A crash: the whole process, because closing an etcd3 client leaves its keepalive stream running.
  const script = fileURLToPath(new URL('member-process.js', import.meta.url));
  const child = spawn(process.execPath, [script, etcd.endpoint, 'node-b', 'dp-b', String(TTL_SECONDS)], {
    stdio: 'pipe',
  });
  t.teardown(() => child.kill('SIGKILL'));
  await waitForLine(child, /joined/);
  await waitFor(t, 'both members listed', () => observer.members().length === 2, 3000);
  child.kill('SIGKILL');
  const gone = await waitFor(t, 'b vanished', () => observer.members().length === 1, TTL_SECONDS * 1000 + 2000);
  t.log(`b vanished ${gone} ms after its process was killed (TTL ${TTL_SECONDS} s)`);
  t.deepEqual(
    observer.members().map((m) => m.name),
    ['node-a'],
  );
  t.deepEqual(observer.known(), ['node-a', 'node-b']);
});

test('clusterId() gives every node of one etcd the same id, created once', async (t) => {
  const etcd = await freshEtcd(t);
  const [one, two] = [await clientOf(t, etcd), await clientOf(t, etcd)];
  const [a, b] = await Promise.all([clusterId(one), clusterId(two)]);
  t.regex(a, /^[0-9a-f-]{36}$/);
  t.is(a, b);
  t.is(await clusterId(one), a);
  const other = await freshEtcd(t);
  t.not(await clusterId(await clientOf(t, other)), a, 'another etcd, another cluster');
});

test('join() while another process holds the key with a garbled value waits, then refuses', async (t) => {
  const etcd = await freshEtcd(t);
  const client = await clientOf(t, etcd);
  const lease = client.lease(60);
  t.teardown(() => lease.revoke());
  await lease.put(memberKey('node-a')).value('not json');
  const error = await t.throwsAsync(
    Membership.join(client, info('node-a'), { ttlSeconds: TTL_SECONDS, dataPathId: 'dp' }),
    {
      instanceOf: NodeNameLiveError,
    },
  );
  t.true(error?.message.includes('an unknown address'), error?.message);
});

test('a member key whose internal URL is not an http:// URL is left out of the members and reported', async (t) => {
  const etcd = await freshEtcd(t);
  const client = await clientOf(t, etcd);
  const reported = new Reported();
  const a = await joined(t, client, info('node-a'), { dataPathId: 'dp-a', onError: reported.onError, relistMs: 200 });
  const forged = { ...info('node-x'), dataPathId: 'dp-x', startedAt: new Date().toISOString() };
  for (const internalUrl of ['file:///etc/passwd', 'http://user:secret@10.0.0.9:7947', 'http://10.0.0.9', 'nonsense']) {
    await client.put(memberKey('node-x')).value(JSON.stringify({ ...forged, internalUrl }));
    await waitFor(t, `${internalUrl} reported`, () => reported.codes().includes('STRATA_CLUSTER_RECORD_INVALID'), 3000);
    t.deepEqual(
      a.members().map((m) => m.name),
      ['node-a'],
      internalUrl,
    );
    reported.errors.length = 0;
  }
  t.regex(String((await client.get(memberKey('node-x')).string()) ?? ''), /nonsense/, 'the key itself is left alone');
});
