/**
 * Taking over an operation whose coordinator is gone, on a real etcd with a 2 s TTL: it becomes an
 * orphan once its lease is revoked (at once) or its process is killed (within the TTL and a little);
 * of nodes adopting it at once exactly one wins; and a coordinator that stalled past its lease and then
 * went on has every write refused, while its successor's go through and its outcome stands.
 */
import { OperationFencedError } from '@strata/core/cluster';
import test from 'ava';
import { freshEtcd, sleep, TTL_SECONDS, waitFor } from './fixtures.js';
import { coordinatorProcess, node, operation, putIn, revokeLease } from './operation-fixtures.js';

test('a lease revoked from outside: an orphan at once; its old coordinator is fenced until it adopts it again', async (t) => {
  const etcd = await freshEtcd(t);
  const [a, b] = [await node(t, etcd, 'node-a'), await node(t, etcd, 'node-b')];
  const state = operation('backup-1');
  await a.store.put(state);
  let seen: string[] = [];
  t.teardown(b.store.watchOrphans((orphans) => (seen = orphans.map((listed) => listed.state.id))));

  const lease = a.membership.leaseId;
  const leases: (string | undefined)[] = [];
  a.membership.on('lease', (id) => leases.push(id));
  const revoking = Date.now();
  await revokeLease(etcd, lease);
  const orphaned = await waitFor(t, 'an orphan watched', () => seen.includes('backup-1'), 1000);
  t.log(`orphan seen by watchOrphans ${orphaned} ms after the revoke (${Date.now() - revoking} ms with the call)`);
  const [orphan] = await b.store.orphans();
  t.like(orphan, { state, coordinator: 'node-a', claimed: false });

  // node-a gets a new lease, but a run it lost stays lost: a put must not claim it afresh.
  await waitFor(t, 'node-a on a new lease', () => ![undefined, lease].includes(a.membership.leaseId), 5000);
  const error = await t.throwsAsync(a.store.put({ ...state, status: 'TRANSFERRING' }), {
    instanceOf: OperationFencedError,
  });
  t.regex(error?.message ?? '', /^backup backup-1 is coordinated by node node-a no more: its lease lapsed; /);
  t.deepEqual(leases, [undefined, a.membership.leaseId], "the membership's lease events: lost, then the new one");
  t.true(await a.store.adopt(orphan ?? state), 'the node may adopt its own orphan');
  await a.store.put({ ...state, status: 'TRANSFERRING' });
  t.like((await a.store.snapshot()).operations[0], { coordinator: 'node-a', claimed: true });
  await waitFor(t, 'no orphans watched', () => seen.length === 0, 2000);
});

test('a coordinator process killed: its operation is an orphan within the TTL and a little', async (t) => {
  const etcd = await freshEtcd(t);
  const b = await node(t, etcd, 'node-b');
  const state = operation('backup-1', { nodes: ['node-a', 'node-b'] });
  const child = await coordinatorProcess(t, etcd, 'node-a', state);
  t.like((await b.store.snapshot()).operations[0], { coordinator: 'node-a', claimed: true });
  const seen: number[] = [];
  t.teardown(b.store.watchOrphans((orphans) => orphans.length > 0 && seen.push(Date.now())));

  const killed = Date.now();
  child.kill('SIGKILL');
  const bound = TTL_SECONDS * 1000 + 1500;
  await waitFor(t, 'an orphan watched', () => seen.length > 0, bound);
  const watched = (seen[0] ?? 0) - killed;
  t.log(`orphan seen by watchOrphans ${watched} ms after the kill (TTL ${TTL_SECONDS} s, bound ${bound} ms)`);
  t.true(watched < bound);
  await sleep(1200);
  t.true(seen.length >= 2, 'delivered again while it is left, so a failed adoption is tried again');

  const [orphan] = await b.store.orphans();
  t.true(orphan !== undefined && (await b.store.adopt(orphan)));
  const adopted = { ...state, status: 'FAILED' as const, error: 'node node-a stopped during backup' };
  await b.store.put(adopted);
  t.deepEqual(await b.store.list(), [adopted]);
  t.like((await b.store.snapshot()).operations[0], { coordinator: 'node-b', claimed: true });
});

test('three nodes adopting the same orphans at once: exactly one wins each, and only it may write', async (t) => {
  const etcd = await freshEtcd(t);
  const dying = await node(t, etcd, 'node-x');
  const states = Array.from({ length: 10 }, (_, i) => operation(`backup-${i}`));
  for (const state of states) await dying.store.put(state);
  await dying.membership.leave(); // revokes its lease: every claim goes at once
  const adopters = [await node(t, etcd, 'node-a'), await node(t, etcd, 'node-b'), await node(t, etcd, 'node-c')];
  const orphans = await adopters[0]?.store.orphans();
  t.is(orphans?.length, 10);

  const wins = new Map<string, number>();
  for (const orphan of orphans ?? []) {
    const results = await Promise.all(adopters.map((adopter) => adopter.store.adopt(orphan)));
    t.is(results.filter(Boolean).length, 1, `one winner for ${orphan.state.id}: ${results}`);
    const winner = adopters[results.indexOf(true)];
    if (winner === undefined) continue;
    wins.set(winner.name, (wins.get(winner.name) ?? 0) + 1);
    const changed = { ...orphan.state, status: 'TRANSFERRING' as const };
    for (const loser of adopters.filter((adopter) => adopter !== winner)) {
      const error = await t.throwsAsync(loser.store.put(changed), { instanceOf: OperationFencedError });
      t.true(error?.message.includes(`is coordinated by node ${winner.name} now`));
    }
    await winner.store.put(changed);
  }
  t.log(`wins: ${JSON.stringify(Object.fromEntries(wins))}`);
  const listed = await adopters[0]?.store.snapshot();
  t.true(listed?.operations.every((op) => op.claimed && op.state.status === 'TRANSFERRING'));
  t.deepEqual(await adopters[0]?.store.orphans(), []);
});

test('a coordinator stopped past its lease that then goes on is fenced; its successor writes and settles', async (t) => {
  const etcd = await freshEtcd(t);
  const b = await node(t, etcd, 'node-b');
  const state = operation('backup-1');
  const child = await coordinatorProcess(t, etcd, 'node-a', state);
  t.is(await putIn(child, { ...state, status: 'TRANSFERRING' }), 'ok');

  // A stall: a GC pause or a frozen VM, longer than the TTL.
  const stopped = Date.now();
  child.kill('SIGSTOP');
  const orphaned = await waitFor(t, 'an orphan', async () => (await b.store.orphans()).length === 1, 5000);
  t.log(`orphan ${orphaned} ms after the stop (TTL ${TTL_SECONDS} s)`);
  const [orphan] = await b.store.orphans();
  t.like(orphan, { coordinator: 'node-a', claimed: false, state: { status: 'TRANSFERRING' } });
  t.true(orphan !== undefined && (await b.store.adopt(orphan)));
  const settled = { ...state, status: 'FAILED' as const, error: 'node node-a stopped during backup' };
  await b.store.put(settled);

  // It goes on, as if nothing happened: its first write comes before it can notice its lease is gone.
  child.kill('SIGCONT');
  const answer = await putIn(child, { ...state, status: 'SUCCESS' });
  t.log(`stopped ${Date.now() - stopped} ms; its put after SIGCONT: ${answer}`);
  t.regex(answer, /^failed STRATA_CLUSTER_OPERATION_FENCED: backup backup-1 is coordinated by node node-b now/);
  t.deepEqual(await b.store.list(), [settled], "the successor's outcome stands");

  // The successor settles and forgets it; the old coordinator must not bring it back.
  await b.store.remove(settled);
  const late = await putIn(child, { ...state, status: 'SUCCESS' });
  t.regex(late, /^failed STRATA_CLUSTER_OPERATION_FENCED: backup backup-1 is coordinated by node node-a no more/);
  t.deepEqual(await b.store.list(), [], 'not revived');
});
