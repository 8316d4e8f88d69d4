/**
 * A cluster's backup from its coordinator's side (operation-run.ts through coordinator.ts), over real
 * participants on two nodes and a fenced in-memory operation store: every phase is in the store before
 * the provider sees it; a coordinator whose claim another node took stops writing and aborts nothing;
 * an outcome etcd cannot take is tried again; a backup that fails leaves no chunk of any node.
 */
import { Readable } from 'node:stream';
import test from 'ava';
import type { OperationState } from '../../src/backup/operation-store.js';
import type { OperationRef, Participant, ParticipantEvent } from '../../src/backup/participant.js';
import { OperationFencedError } from '../../src/errors.js';
import {
  backupRef,
  type Cluster,
  gate,
  idle,
  outcomeOf,
  SpyParticipant,
  settled,
  startCluster,
  until,
} from './cluster-nodes.js';

const ORDER = ['STARTED', 'TRANSFERRING', 'TRANSFERRED', 'SUCCESS'];

const LAYOUT = { node1: { Article: 150 }, node2: { Book: 150 } };

/** The journal's entries from the first that `from` matches. */
const after = (journal: readonly string[], from: string) => journal.slice(journal.indexOf(from));

/** Spies over each node's own participant, and the setup that makes a coordinator use them. */
function spies(cluster: Cluster) {
  const byNode = new Map(
    [...cluster.nodes.keys()].map((name) => [name, new SpyParticipant(cluster.node(name).participant)]),
  );
  return { byNode, participant: (name: string) => byNode.get(name) as SpyParticipant };
}

test('backup() over two nodes puts every phase in the store before it writes backup_config.json with it', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const coordinator = cluster.coordinator('node1');
  const plan = cluster.plan('ordered', ['Article', 'Book']);
  await coordinator.backup(plan, cluster.nodeClasses(plan.classes));
  await idle(coordinator);

  const global = await cluster.global('ordered');
  t.is(global?.status, 'SUCCESS');
  t.deepEqual(global?.nodes.node1?.classes, ['Article']);
  t.deepEqual(global?.nodes.node2?.classes, ['Book']);
  const writes = cluster.journal.filter((entry) => entry.startsWith('write backup_config.json'));
  const statuses = writes.map((entry) => entry.split(' ').at(-1) as string);
  t.deepEqual(
    statuses,
    [...statuses].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)),
    'forward only',
  );
  t.deepEqual([statuses[0], statuses.at(-1)], ['STARTED', 'SUCCESS']);
  for (const write of writes) {
    const status = write.split(' ').at(-1) as string;
    const index = cluster.journal.indexOf(write);
    t.true(
      cluster.journal
        .slice(0, index)
        .some(
          (entry) =>
            entry.startsWith('put ') && (entry.endsWith(` ${status}`) || entry.includes(`${status} committed`)),
        ),
      `${write} follows a put of ${status}:\n${cluster.journal.join('\n')}`,
    );
  }
  t.is(cluster.journal[0], 'put STARTED', 'recorded before anything reaches the provider');
  t.deepEqual(cluster.journal.slice(-2), ['write backup_config.json SUCCESS', 'remove'], 'forgotten last');
  t.is(cluster.store.entry(backupRef(plan)), undefined);
});

test('a coordinator fenced mid-run writes no descriptor, aborts no participant, frees its slot and leaves the successor’s record', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const { byNode, participant } = spies(cluster);
  const coordinator = cluster.coordinator('node1', { participant });
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  const plan = cluster.plan('fenced', ['Article', 'Book']);
  await coordinator.backup(plan, cluster.nodeClasses(plan.classes));
  await hold.reached;

  // node2 adopts it (node1 stalled past its lease) and records where it is.
  const recorded = cluster.store.entry(backupRef(plan))?.state as OperationState;
  const successor: OperationState = { ...recorded, status: 'TRANSFERRING', error: 'node2 follows it now' };
  cluster.store.takeOver(recorded, 'node2', successor);
  const fencedAt = cluster.journal.length;
  hold.release();
  await idle(coordinator);

  const since = cluster.journal.slice(fencedAt);
  t.true(
    since.some((entry) => entry.startsWith('refused')),
    since.join('\n'),
  );
  t.false(
    since.some((entry) => entry.startsWith('write backup_config.json')),
    `no descriptor after the fence:\n${since.join('\n')}`,
  );
  for (const spy of byNode.values()) t.deepEqual(spy.aborts, [], `${spy.node} not aborted`);
  // The participants go on for the successor, to their end.
  const ref = backupRef(plan);
  for (const name of ['node1', 'node2']) {
    t.like(await outcomeOf(cluster.node(name).participant, ref), { type: 'done', outcome: 'SUCCESS' }, name);
  }
  t.like(cluster.store.entry(ref), { state: successor, coordinator: 'node2', claimed: true });
  t.false(coordinator.busy, 'the slot is free');
  t.true(
    cluster.logs.some(
      (line) => line.level === 40 && /is coordinated by node node2 now, not by node node1/.test(String(line.msg)),
    ),
  );

  // And another operation can start on it.
  const next = cluster.plan('after-fence', ['Article']);
  await coordinator.backup(next, { node1: ['Article'] });
  await idle(coordinator);
  t.is((await cluster.global('after-fence'))?.status, 'SUCCESS');
});

test('cancel() of a fenced coordinator rejects with OperationFencedError and aborts no participant', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const { byNode, participant } = spies(cluster);
  const coordinator = cluster.coordinator('node1', { participant });
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  const plan = cluster.plan('fenced-cancel', ['Article', 'Book']);
  await coordinator.backup(plan, cluster.nodeClasses(plan.classes));
  await hold.reached;
  const recorded = cluster.store.entry(backupRef(plan))?.state as OperationState;
  cluster.store.takeOver(recorded, 'node2');

  const refused = await t.throwsAsync(coordinator.cancel('backup', plan));
  t.true(OperationFencedError.is(refused), refused?.message);
  t.is(
    refused?.message,
    'backup fenced-cancel is coordinated by node node2 now, not by node node1; this write to it was refused, so the outcome of the node that coordinates it stands',
  );
  for (const spy of byNode.values()) t.deepEqual(spy.aborts, [], `${spy.node} not aborted`);
  t.false(coordinator.busy);
  t.is(cluster.store.entry(recorded)?.state.status, recorded.status, 'the successor’s record stands');
  t.false(cluster.store.entry(recorded)?.state.cancelRequested === true);
  hold.release();
  for (const name of ['node1', 'node2']) await settled(cluster.node(name).participant, backupRef(plan));
  t.like(await outcomeOf(cluster.node('node2').participant, backupRef(plan)), { outcome: 'SUCCESS' });
});

/**
 * A participant of node `node` that prepares and commits, then fails once `fail` opens (writing
 * `leaves` first, as a node that died mid-upload leaves what it wrote).
 */
class FailingParticipant implements Participant {
  readonly node: string;
  readonly calls: string[] = [];
  readonly fail = gate();
  readonly #before: () => Promise<void>;
  readonly #phase: boolean;

  constructor(node: string, options: { before?: () => Promise<void>; phase?: boolean } = {}) {
    this.node = node;
    this.#before = options.before ?? (async () => {});
    this.#phase = options.phase ?? false;
  }

  async prepare(request: Parameters<Participant['prepare']>[0]) {
    this.calls.push('prepare');
    return { classes: request.kind === 'backup' ? request.classes : [] };
  }

  async commit() {
    this.calls.push('commit');
  }

  async *events(): AsyncIterable<ParticipantEvent> {
    await this.fail.opened;
    await this.#before();
    if (this.#phase) yield { type: 'phase', phase: 'TRANSFERRING', bytes: 10 };
    throw new Error(`${this.node} is unreachable (test)`);
  }

  async status() {
    return undefined;
  }

  async abort(_operation: OperationRef, reason: string) {
    this.calls.push(`abort: ${reason}`);
  }
}

test('a participant that fails while the store is fenced does not abort the others', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 150 }, node2: {} });
  const spy = new SpyParticipant(cluster.node('node1').participant);
  const failing = new FailingParticipant('node2');
  const coordinator = cluster.coordinator('node1', {
    participant: (name) => (name === 'node1' ? spy : failing),
  });
  const hold = cluster.holdChunks('node1');
  t.teardown(() => hold.release());
  const plan = cluster.plan('fail-fenced', ['Article']);
  await coordinator.backup(plan, { node1: ['Article'], node2: ['Ghost'] });
  await hold.reached;
  // Once node1's TRANSFERRING is recorded, nothing but the failure writes to the store.
  await until(() => cluster.journal.filter((entry) => entry === 'write backup_config.json STARTED').length === 2);
  cluster.store.takeOver(cluster.store.entry(backupRef(plan))?.state as OperationState, 'node2');

  failing.fail.open();
  await idle(coordinator);
  t.deepEqual(after(cluster.journal, 'taken over by node2'), ['taken over by node2', 'refused STARTED committed']);
  t.deepEqual(spy.aborts, [], 'node1 goes on for the successor');
  hold.release();
  t.like(await outcomeOf(cluster.node('node1').participant, backupRef(plan)), { outcome: 'SUCCESS' });
});

test('a participant that fails while the store is this node’s aborts the others, and the backup is FAILED with its error', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 150 }, node2: {} });
  const spy = new SpyParticipant(cluster.node('node1').participant);
  const failing = new FailingParticipant('node2');
  const coordinator = cluster.coordinator('node1', { participant: (name) => (name === 'node1' ? spy : failing) });
  const hold = cluster.holdChunks('node1');
  t.teardown(() => hold.release());
  const plan = cluster.plan('fail-here', ['Article']);
  await coordinator.backup(plan, { node1: ['Article'], node2: ['Ghost'] });
  await hold.reached;
  failing.fail.open();
  await idle(coordinator);
  t.deepEqual(spy.aborts, ['abort: node2 failed: node2 is unreachable (test)']);
  t.like(await cluster.global('fail-here'), { status: 'FAILED', error: 'node2 is unreachable (test)' });
  t.like(await outcomeOf(cluster.node('node1').participant, backupRef(plan)), { outcome: 'ABORTED' });
});

test('a FAILED backup has the chunks of every node deleted, a node that died mid-upload among them', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 300 }, node2: {} });
  const plan = cluster.plan('dead-node', ['Article']);
  // node3 wrote a chunk, then died: it never reports, and cannot delete it.
  const dying = new FailingParticipant('node3', {
    before: async () => {
      await cluster.backend.write('dead-node/node3/Ghost/chunk-1', Readable.from([Buffer.from('left behind')]));
      await cluster.backend.write('dead-node/node3/Ghost/chunk-2', Readable.from([Buffer.from('left behind')]));
      // Not a chunk of the layout: kept, as deleting is by the backup's keys only.
      await cluster.backend.write('dead-node/node3/Ghost/notes.txt', Readable.from([Buffer.from('not ours')]));
    },
  });
  const coordinator = cluster.coordinator('node1', {
    participant: (name) => (name === 'node3' ? dying : cluster.node(name).participant),
  });
  const hold = cluster.holdChunks('node1');
  t.teardown(() => hold.release());
  await coordinator.backup(plan, { node1: ['Article'], node3: ['Ghost'] });
  await hold.reached;
  hold.release();
  // node1 finishes its part (chunks and node descriptor) before node3 fails.
  await settled(cluster.node('node1').participant, backupRef(plan));
  t.true((await cluster.files('dead-node')).some((file) => file.startsWith('node1/Article/chunk-')));
  dying.fail.open();
  await idle(coordinator);

  t.like(await cluster.global('dead-node'), { status: 'FAILED', error: 'node3 is unreachable (test)' });
  t.deepEqual(await cluster.files('dead-node'), ['backup_config.json', 'node3/Ghost/notes.txt']);
});

test('an outcome the store cannot take is put again every retryStoreMs until it is; the descriptor is written after', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 50 } });
  const coordinator = cluster.coordinator('node1', { cluster: { finalize: async () => {}, retryStoreMs: 5 } });
  cluster.store.failPuts(12, (state) => state.outcome?.status === 'SUCCESS');
  const plan = cluster.plan('retried', ['Article']);
  await coordinator.backup(plan, { node1: ['Article'] });
  await idle(coordinator);

  t.deepEqual(after(cluster.journal, 'unreachable TRANSFERRED committed -> SUCCESS'), [
    ...Array.from({ length: 12 }, () => 'unreachable TRANSFERRED committed -> SUCCESS'),
    'put TRANSFERRED committed -> SUCCESS',
    'write backup_config.json SUCCESS',
    'remove',
  ]);
  const warnings = cluster.logs.filter((line) =>
    /could not record the outcome of backup retried/.test(String(line.msg)),
  );
  t.deepEqual(
    warnings.map((line) => [line.level, line.tries]),
    [
      [40, 1],
      [40, 11],
    ],
    'warned at the first try and every tenth',
  );
});

test('without retryStoreMs, an outcome the store cannot take is logged and the descriptor written all the same', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 50 } });
  const coordinator = cluster.coordinator('node1', { cluster: false });
  cluster.store.failPuts(1, (state) => state.outcome?.status === 'SUCCESS');
  const plan = cluster.plan('once', ['Article']);
  await coordinator.backup(plan);
  await idle(coordinator);
  t.deepEqual(after(cluster.journal, 'unreachable TRANSFERRED committed -> SUCCESS'), [
    'unreachable TRANSFERRED committed -> SUCCESS',
    'write backup_config.json SUCCESS',
    'remove',
  ]);
  t.true(
    cluster.logs.some(
      (line) => line.level === 50 && /could not record the outcome of backup once/.test(String(line.msg)),
    ),
  );
});

test('a phase the store cannot take is not written to the provider; the participants go on', async (t) => {
  const cluster = await startCluster(t, { node1: { Article: 150 } });
  const coordinator = cluster.coordinator('node1');
  cluster.store.failPuts(1, (state) => state.status === 'TRANSFERRING');
  const plan = cluster.plan('phase-lost', ['Article']);
  await coordinator.backup(plan, { node1: ['Article'] });
  await idle(coordinator);
  const index = cluster.journal.indexOf('unreachable TRANSFERRING committed');
  t.true(index > 0, cluster.journal.join('\n'));
  t.not(cluster.journal[index + 1], 'write backup_config.json TRANSFERRING');
  t.false(cluster.journal.includes('write backup_config.json TRANSFERRING'), cluster.journal.join('\n'));
  t.is((await cluster.global('phase-lost'))?.status, 'SUCCESS');
});

test('backup() whose first put fails rejects with the store’s error, writes nothing and frees the slot', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const { byNode, participant } = spies(cluster);
  const coordinator = cluster.coordinator('node1', { participant });
  cluster.store.failPuts(1);
  const plan = cluster.plan('unrecorded', ['Article', 'Book']);
  const error = await t.throwsAsync(coordinator.backup(plan, cluster.nodeClasses(plan.classes)));
  t.is((error as { code?: string } | undefined)?.code, 'STRATA_CLUSTER_ETCD_UNREACHABLE');
  t.deepEqual(cluster.journal, ['unreachable STARTED']);
  for (const spy of byNode.values()) t.false(spy.calls.includes('prepare'), spy.node);
  t.false(coordinator.busy);
  t.deepEqual(await cluster.files('unrecorded'), []);
});

test('backup() whose STARTED descriptor cannot be written rejects, drops the prepared jobs and forgets the operation', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const coordinator = cluster.coordinator('node1');
  cluster.refuseDescriptors((status) => status === 'STARTED');
  const plan = cluster.plan('unstarted', ['Article', 'Book']);
  await t.throwsAsync(coordinator.backup(plan, cluster.nodeClasses(plan.classes)), {
    message: 'the provider refused backup_config.json (test)',
  });
  // Committed in the store (fenced) before the provider is written; forgotten when the write fails.
  t.deepEqual(cluster.journal, [
    'put STARTED',
    'put STARTED committed',
    'unwritable backup_config.json STARTED',
    'remove',
  ]);
  for (const name of ['node1', 'node2']) t.is(await cluster.node(name).participant.status(backupRef(plan)), undefined);
  t.false(coordinator.busy);
});

test('a phase descriptor the provider refuses fails the backup with the provider’s error and aborts the participants', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const { byNode, participant } = spies(cluster);
  const coordinator = cluster.coordinator('node1', { participant });
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  cluster.refuseDescriptors((status) => status !== 'STARTED' && status !== 'FAILED');
  const plan = cluster.plan('unwritable', ['Article', 'Book']);
  await coordinator.backup(plan, cluster.nodeClasses(plan.classes));
  await hold.reached;
  hold.release();
  await idle(coordinator);
  t.like(await cluster.global('unwritable'), {
    status: 'FAILED',
    error: 'the provider refused backup_config.json (test)',
  });
  for (const spy of byNode.values()) {
    t.deepEqual(spy.aborts, ['abort: the provider refused backup_config.json (test)'], spy.node);
  }
  t.deepEqual(await cluster.files('unwritable'), ['backup_config.json']);
});

test('cancel() with the store unreachable still aborts the participants; the backup ends CANCELED', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const coordinator = cluster.coordinator('node1');
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  const plan = cluster.plan('cancel-unreachable', ['Article', 'Book']);
  await coordinator.backup(plan, cluster.nodeClasses(plan.classes));
  await hold.reached;
  cluster.store.failPuts(1, (state) => state.status === 'CANCELLING');
  const state = await coordinator.cancel('backup', plan);
  t.like(state, { status: 'CANCELED', error: 'backup canceled by user' });
  t.true(cluster.journal.includes('unreachable CANCELLING committed'));
  t.like(await cluster.global('cancel-unreachable'), { status: 'CANCELED' });
  t.true(cluster.logs.some((line) => line.msg === 'could not record the cancel of cancel-unreachable'));
  t.deepEqual(await cluster.files('cancel-unreachable'), ['backup_config.json']);
});

test('live() counts nothing of a participant that does not answer its status', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const silent = new SpyParticipant(cluster.node('node2').participant);
  silent.status = async () => {
    throw new Error('node2 does not answer (test)');
  };
  const coordinator = cluster.coordinator('node1', {
    participant: (name) => (name === 'node2' ? silent : cluster.node(name).participant),
  });
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  const plan = cluster.plan('half-seen', ['Article', 'Book']);
  await coordinator.backup(plan, cluster.nodeClasses(plan.classes));
  await hold.reached;
  const live = await coordinator.live('backup', plan);
  const node1 = await cluster.node('node1').participant.status(backupRef(plan));
  t.deepEqual(live?.progress, node1?.progress);
  hold.release();
  await idle(coordinator);
});

test('backup() refused because the backup exists aborts none of the participants running it for another coordinator', async (t) => {
  const cluster = await startCluster(t, LAYOUT);
  const first = cluster.coordinator('node1');
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  const plan = cluster.plan('twice', ['Article', 'Book']);
  await first.backup(plan, cluster.nodeClasses(plan.classes));
  await hold.reached;

  // node2 is asked for the same backup (its requireIdle listed the store before node1's first put).
  const second = cluster.coordinator('node2');
  const refused = await t.throwsAsync(second.backup(plan, cluster.nodeClasses(plan.classes)));
  t.is((refused as { code?: string } | undefined)?.code, 'STRATA_BACKUP_EXISTS');
  hold.release();
  await idle(first);
  const global = await cluster.global('twice');
  t.like(global, { status: 'SUCCESS' }, `node1’s backup is not aborted by node2’s refusal: ${global?.error}`);
});
