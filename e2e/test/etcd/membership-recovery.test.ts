/**
 * Membership across etcd outages and outside interference, in the same process throughout: a
 * restart within the TTL (the lease survives: unhealthy, then healthy again), kills for longer than
 * the TTL (the lease is lost: a new lease and a new claim once etcd is back), a member key deleted
 * and a lease revoked by hand. Nothing may reject unhandled meanwhile: ava fails the file if anything
 * does.
 */
import { type Membership, memberKey } from '@strata/core/cluster';
import test from 'ava';
import type { Etcd3 } from 'etcd3';
import { clientOf, freshEtcd, info, joined, Reported, sleep, TTL_SECONDS, waitFor } from './fixtures.js';

/** Every health event of `membership`, with when it came. */
function healthLog(membership: Membership): { healthy: boolean; at: number }[] {
  const log: { healthy: boolean; at: number }[] = [];
  membership.on('health', (healthy) => log.push({ healthy, at: Date.now() }));
  return log;
}

/** The lease id of node-a's member key; undefined without one. */
async function leaseOfA(client: Etcd3): Promise<string | undefined> {
  return (await client.get(memberKey('node-a')).exec()).kvs[0]?.lease;
}

test.serial(
  'membership survives etcd.restart(): healthy goes false, then true, and the member key is back',
  async (t) => {
    const etcd = await freshEtcd(t);
    const client = await clientOf(t, etcd);
    const membership = await joined(t, client, info('node-a'), { dataPathId: 'dp-a', onError: () => {} });
    const before = await leaseOfA(client);
    const health = healthLog(membership);

    const restarting = Date.now();
    await etcd.restart();
    const restarted = Date.now();
    await waitFor(t, 'healthy again', () => health.some((event) => event.healthy), 10_000);
    t.deepEqual(
      health.slice(0, 2).map((event) => event.healthy),
      [false, true],
    );
    const [down, up] = health;
    t.log(
      `etcd down and up in ${restarted - restarting} ms; unhealthy ${(down?.at ?? 0) - restarting} ms after the ` +
        `restart began; healthy again ${(up?.at ?? 0) - restarted} ms after etcd was back`,
    );
    t.is(await leaseOfA(client), before, 'a restart within the TTL keeps the lease and the key');
    t.deepEqual(
      membership.members().map((member) => member.name),
      ['node-a'],
    );
  },
);

for (const downSeconds of [TTL_SECONDS + 1, 2 * TTL_SECONDS + 1]) {
  test.serial(
    `membership survives etcd.kill() for ${downSeconds} s (TTL ${TTL_SECONDS} s), then etcd.restart()`,
    async (t) => {
      const etcd = await freshEtcd(t);
      const client = await clientOf(t, etcd);
      const reported = new Reported();
      const membership = await joined(t, client, info('node-a'), { dataPathId: 'dp-a', onError: reported.onError });
      const before = await leaseOfA(client);
      const health = healthLog(membership);

      await etcd.kill();
      const unhealthy = await waitFor(t, 'unhealthy', () => !membership.healthy, 5000);
      await sleep(downSeconds * 1000);
      t.false(membership.healthy);
      await etcd.restart();
      const back = await waitFor(t, 'healthy again', () => membership.healthy, 10_000);
      const lease = await leaseOfA(client);
      t.truthy(lease, 'the member key is back');
      // etcd3 gives a lease up 2 x TTL after its last keepalive; etcd renews every lease when it
      // starts, so one given up sooner is still alive, and kept.
      if (downSeconds > 2 * TTL_SECONDS) t.not(lease, before, 'lost, and claimed again with a new lease');
      t.log(
        `unhealthy ${unhealthy} ms after the kill; healthy ${back} ms after etcd was back; lease ` +
          `${lease === before ? 'kept' : 'replaced'}; health ${JSON.stringify(health.map((event) => event.healthy))}`,
      );
      t.log(`reported: ${reported.errors.map((error) => String(error).slice(0, 80)).join(' | ')}`);
      // The lease is kept alive: the key outlives a TTL.
      await sleep(TTL_SECONDS * 1000 + 1000);
      t.is(await leaseOfA(client), lease);
      t.true(membership.healthy);
    },
  );
}

test.serial('a member key deleted by hand is claimed again with a new lease', async (t) => {
  const etcd = await freshEtcd(t);
  const client = await clientOf(t, etcd);
  const membership = await joined(t, client, info('node-a'), { dataPathId: 'dp-a', onError: () => {} });
  const before = await leaseOfA(client);
  await client.delete().key(memberKey('node-a'));
  const back = await waitFor(t, 'the key back', async () => (await leaseOfA(client)) !== undefined, 5000);
  t.log(`claimed again after ${back} ms`);
  t.not(await leaseOfA(client), before);
  await waitFor(t, 'healthy', () => membership.healthy, 3000);
});

test.serial('a lease revoked from outside is replaced, and the key claimed again', async (t) => {
  const etcd = await freshEtcd(t);
  const client = await clientOf(t, etcd);
  const membership = await joined(t, client, info('node-a'), { dataPathId: 'dp-a', onError: () => {} });
  const before = await leaseOfA(client);
  // etcd's JSON gateway: an operator's `etcdctl lease revoke`.
  const revoked = await fetch(`${etcd.endpoint}/v3/lease/revoke`, {
    method: 'POST',
    body: JSON.stringify({ ID: before }),
  });
  t.is(revoked.status, 200);
  const back = await waitFor(t, 'a new lease', async () => ![undefined, before].includes(await leaseOfA(client)), 5000);
  t.log(`claimed again after ${back} ms`);
  await waitFor(t, 'healthy', () => membership.healthy, 3000);
});

test.serial('leave() while etcd is down ends within a few seconds', async (t) => {
  const etcd = await freshEtcd(t);
  const client = await clientOf(t, etcd);
  const membership = await joined(t, client, info('node-a'), { dataPathId: 'dp-a', onError: () => {} });
  await etcd.kill();
  const start = Date.now();
  await membership.leave();
  const took = Date.now() - start;
  t.log(`leave took ${took} ms with etcd down`);
  t.true(took < 5000);
});
