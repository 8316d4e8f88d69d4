/**
 * EtcdOperationStore on a real etcd, one coordinator at a time: what put writes is what list gives
 * back, under a record without a lease and a claim on the node's lease; another node can neither put
 * nor remove an operation it does not hold; damaged values are skipped and reported; and every call
 * fails within seconds while etcd is down. Take-over (orphans, adoption, a stalled coordinator) is in
 * operation-adoption.test.ts.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  ClusterRecordInvalidError,
  EtcdUnreachableError,
  OperationFencedError,
  operationClaimKey,
  operationHash,
  operationRecordKey,
} from '@strata/core/cluster';
import test from 'ava';
import { freshEtcd, waitFor } from './fixtures.js';
import { node, operation } from './operation-fixtures.js';

/** The hash naming the keys of `state` (operationKey() of @strata/core/backup, hashed). */
const hashOfState = (state: ReturnType<typeof operation>) =>
  operationHash(
    JSON.stringify([state.kind, state.backend, state.id, state.scope.bucket ?? '', state.scope.path ?? '']),
  );

test('put, list and remove: list gives back what put wrote; the record is not leased, the claim is', async (t) => {
  const etcd = await freshEtcd(t);
  const a = await node(t, etcd, 'node-a');
  const backup = operation('backup-1');
  // A path with "/": the keys are hashes, never paths. (Ids are backup ids: others are refused as damaged.)
  const restore = operation('nightly-2025', {
    kind: 'restore',
    scope: { bucket: 'b', path: 'x/y' },
    attaches: [{ class: 'Article', shards: ['s1', 's2'] }],
    cancelRequested: true,
  });
  await a.store.put(backup);
  await a.store.put(restore);
  t.deepEqual(await a.store.list(), [backup, restore]);

  const transferring = { ...backup, status: 'TRANSFERRING' as const, preCompressionSizeBytes: 1234 };
  await a.store.put(transferring);
  t.deepEqual(await a.store.list(), [transferring, restore], 'replaced in place: listed by when it was created');
  const { operations, skipped } = await a.store.snapshot();
  t.deepEqual(
    operations.map(({ coordinator, claimed }) => ({ coordinator, claimed })),
    [
      { coordinator: 'node-a', claimed: true },
      { coordinator: 'node-a', claimed: true },
    ],
  );
  t.deepEqual(skipped, []);
  t.deepEqual(await a.store.orphans(), []);

  const hash = hashOfState(backup);
  const [record] = (await a.client.get(operationRecordKey(hash)).exec()).kvs;
  const [claim] = (await a.client.get(operationClaimKey(hash)).exec()).kvs;
  t.is(record?.lease, '0', 'the record outlives its coordinator');
  t.is(claim?.lease, a.membership.leaseId ?? 'no lease', "the claim is on the node's lease");
  t.deepEqual(JSON.parse(record?.value.toString() ?? ''), { coordinator: 'node-a', state: transferring });
  t.deepEqual(JSON.parse(claim?.value.toString() ?? ''), { node: 'node-a' });

  await a.store.remove(transferring);
  t.deepEqual(await a.store.list(), [restore]);
  t.is(await a.client.get(operationRecordKey(hash)).string(), null);
  t.is(await a.client.get(operationClaimKey(hash)).string(), null);
  await a.store.remove(transferring);
  t.pass('removing one forgotten already resolves');

  // A restore of the same backup again: the same keys, a new run.
  const again = { ...restore, startedAt: '2025-02-02T00:00:00.000Z', cancelRequested: false };
  await a.store.remove(restore);
  await a.store.put(again);
  t.deepEqual(await a.store.list(), [again], 'a new run of an operation removed before is claimed afresh');
  t.deepEqual(a.reported.errors, []);
});

test('a second node can neither put nor remove an operation the first claims: fenced, naming the first', async (t) => {
  const etcd = await freshEtcd(t);
  const [a, b] = [await node(t, etcd, 'node-a'), await node(t, etcd, 'node-b')];
  const state = operation('backup-1');
  await a.store.put(state);
  const changed = { ...state, status: 'FAILED' as const, error: 'overwritten' };
  for (const [what, write] of [
    ['put', () => b.store.put(changed)],
    ['remove', () => b.store.remove(state)],
  ] as const) {
    const error = await t.throwsAsync(write(), { instanceOf: OperationFencedError });
    t.like(error, { code: 'STRATA_CLUSTER_OPERATION_FENCED', statusCode: 409 });
    t.is(
      error?.message,
      'backup backup-1 is coordinated by node node-a now, not by node node-b; this write to it was refused, so the ' +
        'outcome of the node that coordinates it stands',
      what,
    );
  }
  t.false(await b.store.adopt(state), 'a claimed operation is no orphan');
  t.deepEqual(await b.store.list(), [state], "node-a's record stands");
  await a.store.put(changed);
  t.deepEqual(await b.store.list(), [changed], 'node-a still writes it');
});

test('damaged records are skipped and reported; a damaged claim still counts as a claim', async (t) => {
  const etcd = await freshEtcd(t);
  const a = await node(t, etcd, 'node-a');
  const good = operation('good');
  await a.store.put(good);
  const other = operation('other');
  const keyOf = (id: string) => operationRecordKey(operationHash(id));
  const damaged = {
    [keyOf('not-json')]: '{not json',
    [keyOf('array')]: '[1]',
    [keyOf('no-kind')]: JSON.stringify({ coordinator: 'node-a', state: { ...other, kind: 'export' } }),
    [keyOf('nodes')]: JSON.stringify({ coordinator: 'node-a', state: { ...other, nodes: 'node-a' } }),
    [keyOf('no-coordinator')]: JSON.stringify({ state: other }),
    // Names an adopter would turn into keys to delete under: each refused, so nothing outside is touched.
    [keyOf('node-path')]: JSON.stringify({ coordinator: 'node-a', state: { ...other, nodes: ['../../etc'] } }),
    [keyOf('class-path')]: JSON.stringify({ coordinator: 'node-a', state: { ...other, classes: ['/abs'] } }),
    [keyOf('id-path')]: JSON.stringify({ coordinator: 'node-a', state: { ...other, id: '../other' } }),
    [keyOf('node-classes-path')]: JSON.stringify({
      coordinator: 'node-a',
      state: { ...other, nodeClasses: { '..': ['Article'] } },
    }),
    [keyOf('attach-path')]: JSON.stringify({
      coordinator: 'node-a',
      state: { ...other, attaches: [{ class: 'Article', shards: ['../x'], node: 'node-a' }] },
    }),
    // A valid record under another operation's key.
    [keyOf('moved')]: JSON.stringify({ coordinator: 'node-a', state: other }),
    'strata/operations/records/not-a-hash': JSON.stringify({ coordinator: 'node-a', state: other }),
  };
  for (const [key, value] of Object.entries(damaged)) await a.client.put(key).value(value);
  // The record of `other` with an unreadable claim: some lease holds it, so it is no orphan.
  const otherHash = hashOfState(other);
  await a.client.put(operationRecordKey(otherHash)).value(JSON.stringify({ coordinator: 'node-x', state: other }));
  const lease = a.client.lease(60);
  t.teardown(() => lease.revoke());
  await lease.put(operationClaimKey(otherHash)).value(JSON.stringify({ holder: 'node-x' }));

  const snapshot = await a.store.snapshot();
  t.deepEqual(
    snapshot.operations.map(({ state, coordinator, claimed }) => ({ id: state.id, coordinator, claimed })),
    [
      { id: 'good', coordinator: 'node-a', claimed: true },
      { id: 'other', coordinator: 'node-x', claimed: true },
    ],
  );
  t.deepEqual([...snapshot.skipped].sort(), Object.keys(damaged).sort());
  const invalid = a.reported.errors.filter((error) => error instanceof ClusterRecordInvalidError);
  t.is(invalid.length, a.reported.errors.length);
  t.is(invalid.length, Object.keys(damaged).length + 1, 'each damaged record, and the damaged claim');
  const messages = invalid.map((error) => (error as Error).message).join('\n');
  t.log(messages);
  for (const problem of [
    'not JSON',
    'not a JSON object',
    'state.kind is neither',
    'state.nodes is not an array of node names',
    'state.classes is not an array of class names',
    'state.id is not a backup id',
    'state.nodeClasses is not a record of class names by node name',
    'state.attaches is not a list of attachments',
    'coordinator is not a node name',
    "its operation is not its key's",
    'its key is not an operation hash',
    'node is not a node name',
  ]) {
    t.true(messages.includes(problem), problem);
  }
  t.deepEqual(await a.store.orphans(), []);
  const fenced = await t.throwsAsync(a.store.put(other), { instanceOf: OperationFencedError });
  t.regex(fenced?.message ?? '', /coordinated by node unknown \(its claim is unreadable\) now/);
});

test('put, remove, adopt and list while etcd is down fail with EtcdUnreachableError within 5 s', async (t) => {
  const etcd = await freshEtcd(t);
  const a = await node(t, etcd, 'node-a');
  const state = operation('backup-1');
  await a.store.put(state);
  await etcd.kill();
  const changed = { ...state, status: 'TRANSFERRING' as const };
  for (const [what, call] of [
    ['put', () => a.store.put(changed)],
    ['put of a new operation', () => a.store.put(operation('backup-2'))],
    ['remove', () => a.store.remove(state)],
    ['adopt', () => a.store.adopt(state)],
    ['list', () => a.store.list()],
    ['orphans', () => a.store.orphans()],
  ] as const) {
    const start = Date.now();
    const error = await t.throwsAsync<Error>(call(), { instanceOf: EtcdUnreachableError });
    const took = Date.now() - start;
    t.log(`${what} failed after ${took} ms: ${error?.message.slice(0, 90)}`);
    t.true(took < 5000, what);
  }
  await etcd.restart();
  // The client reconnects within about a second of etcd's return (etcd-client.ts), not at once.
  const back = await waitFor(
    t,
    'etcd answering',
    () =>
      a.store.list().then(
        () => true,
        () => false,
      ),
    5000,
  );
  t.log(`listed again ${back} ms after etcd was back`);
  t.deepEqual(await a.store.list(), [state], 'nothing changed');
});

test('put and remove while etcd is frozen (SIGSTOP: no answer at all) fail within 5 s', async (t) => {
  const etcd = await freshEtcd(t);
  const a = await node(t, etcd, 'node-a');
  const state = operation('backup-1');
  await a.store.put(state);
  const transferring = { ...state, status: 'TRANSFERRING' as const };
  const pid = etcd.pid ?? 0;
  process.kill(pid, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {} // stopped already
  });
  for (const [what, call] of [
    ['put', () => a.store.put(transferring)],
    ['remove', () => a.store.remove(state)],
  ] as const) {
    const start = Date.now();
    await t.throwsAsync(call(), { instanceOf: EtcdUnreachableError });
    const took = Date.now() - start;
    t.log(`${what} failed after ${took} ms`);
    t.true(took < 5000, what);
  }
  process.kill(pid, 'SIGCONT');
  const answering = () =>
    a.store.list().then(
      () => true,
      () => false,
    );
  await waitFor(t, 'etcd answering', answering, 5000);
  // Unlike a dead etcd, a frozen one got the calls that timed out, and applies them as it thaws, each
  // only if its compare on the claim's lease holds then: "failed" never meant "not written".
  const after = await a.store.list();
  const outcome = [[state], [transferring], []].findIndex((expected) => isDeepStrictEqual(after, expected));
  t.log(`after the thaw: ${['neither applied', 'the put applied', 'the remove applied'][outcome] ?? 'other'}`);
  t.not(outcome, -1, JSON.stringify(after));
});
