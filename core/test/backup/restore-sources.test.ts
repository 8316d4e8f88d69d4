/**
 * Coordinator.restore's sources: which node of the backup restores on which live node (node_mapping),
 * refused up front, before any participant is asked or anything recorded, for a mapping key that is
 * no node of the backup, two nodes onto one, and a node that is not live; a node of the backup that
 * holds none of the selected classes takes no part.
 */
import test, { type ExecutionContext } from 'ava';
import type { RestoreRequest } from '../../src/backup/requests.js';
import { idle, SpyParticipant, startCluster } from './cluster-nodes.js';

/** Two nodes, one class each, and a backup of both. */
async function backedUp(t: ExecutionContext) {
  const cluster = await startCluster(t, { node1: { Article: 40, Extra: 5 }, node2: { Book: 40 } });
  const coordinator = cluster.coordinator('node1');
  const plan = cluster.plan('src', ['Article', 'Book']);
  await coordinator.backup(plan, cluster.nodeClasses(plan.classes));
  await idle(coordinator);
  t.is((await cluster.global('src'))?.status, 'SUCCESS');
  const spies = new Map(
    [...cluster.nodes.keys()].map((name) => [name, new SpyParticipant(cluster.node(name).participant)]),
  );
  const journalAt = cluster.journal.length;
  return { cluster, spies, journalAt };
}

interface Refusal {
  readonly request: RestoreRequest;
  readonly live: readonly string[];
  /** A coordinator of a cluster (the default), or of one node. */
  readonly cluster?: false;
  readonly code: string;
  readonly message: string;
}

const REFUSALS: Readonly<Record<string, Refusal>> = {
  'a node_mapping key that is no node of the backup': {
    request: { node_mapping: { node9: 'node1' } },
    live: ['node1', 'node2'],
    code: 'STRATA_RESTORE_NODE_MAPPING',
    message: 'node_mapping: node "node9" is not a node of backup src (its nodes: node1, node2)',
  },
  'a node mapped onto another node of the backup, which restores there too': {
    request: { node_mapping: { node1: 'node2' } },
    live: ['node1', 'node2'],
    code: 'STRATA_RESTORE_NODE_MAPPING',
    message:
      'node_mapping: node "node2" and node1 would both be restored on node2; map each node of the backup onto a node of its own',
  },
  'two nodes mapped onto one': {
    request: { node_mapping: { node1: 'node3', node2: 'node3' } },
    live: ['node1', 'node2', 'node3'],
    code: 'STRATA_RESTORE_NODE_MAPPING',
    message:
      'node_mapping: node "node2" and node1 would both be restored on node3; map each node of the backup onto a node of its own',
  },
  'an unmapped node that is no live member of the cluster': {
    request: {},
    live: ['node3', 'node1'],
    code: 'STRATA_RESTORE_NODE_NOT_LIVE',
    message:
      'the backup holds node "node2", but no live member of this cluster is named so (live: node1, node3): start that node, or restore with "node_mapping": {"node2": "<a live node>"}',
  },
  'a node mapped onto a node that is not live': {
    request: { node_mapping: { node2: 'node7' } },
    live: ['node1', 'node2'],
    code: 'STRATA_RESTORE_NODE_NOT_LIVE',
    message:
      'the backup holds node "node2", mapped to "node7", but no live member of this cluster is named so (live: node1, node2): start that node, or restore with "node_mapping": {"node2": "<a live node>"}',
  },
  'a node of the backup other than this one, on a single node': {
    request: {},
    live: ['node1'],
    cluster: false,
    code: 'STRATA_RESTORE_NODE_MISMATCH',
    message:
      'the backup holds node "node2", but this node is "node1": restore with "node_mapping": {"node2": "node1"}, or start this node with CLUSTER_HOSTNAME=node2',
  },
};

for (const [name, refusal] of Object.entries(REFUSALS)) {
  test(`restore() refuses ${name}, before any participant is asked`, async (t) => {
    const { cluster, spies, journalAt } = await backedUp(t);
    const coordinator = cluster.coordinator('node1', {
      live: refusal.live,
      participant: (node) => spies.get(node) ?? cluster.node(node).participant,
      ...(refusal.cluster === false ? { cluster: false as const } : {}),
    });
    const error = await t.throwsAsync(coordinator.restore(cluster.restorePlan('src', refusal.request)));
    t.is((error as { code?: string } | undefined)?.code, refusal.code);
    t.is(error?.message, refusal.message);
    for (const spy of spies.values()) t.deepEqual(spy.calls, [], spy.node);
    t.deepEqual(cluster.journal.slice(journalAt), [], 'nothing recorded');
    t.false(coordinator.busy);
  });
}

for (const request of [{ include: ['Article'] }, { exclude: ['Book'] }]) {
  test(`restore() of ${JSON.stringify(request)} leaves out the node holding none of those classes, live or not`, async (t) => {
    const { cluster, spies } = await backedUp(t);
    await cluster.node('node1').db.deleteClass('Article');
    // node2 is not live: it holds only Book, so it is not needed.
    const coordinator = cluster.coordinator('node1', {
      live: ['node1'],
      participant: (node) => spies.get(node) ?? cluster.node(node).participant,
    });
    t.deepEqual(await coordinator.restore(cluster.restorePlan('src', request)), ['Article']);
    await idle(coordinator);
    t.deepEqual(spies.get('node2')?.calls, []);
    t.deepEqual(spies.get('node1')?.calls.slice(0, 2), ['prepare', 'commit']);
    const restored = await cluster.node('node1').db.listObjects({ className: 'Article', limit: 1000 });
    t.is(restored.length, 40);
    t.is(cluster.node('node2').db.getClass('Article'), undefined);
  });
}

test('restore() refused by a participant’s prepare aborts only the participants that prepared, and records nothing', async (t) => {
  const { cluster, spies, journalAt } = await backedUp(t);
  await cluster.node('node1').db.deleteClass('Article');
  // Book is still on node2.
  const coordinator = cluster.coordinator('node1', { participant: (node) => spies.get(node) as SpyParticipant });
  const error = await t.throwsAsync(coordinator.restore(cluster.restorePlan('src')));
  t.is((error as { code?: string } | undefined)?.code, 'STRATA_RESTORE_CLASS_EXISTS');
  t.deepEqual(spies.get('node1')?.calls, ['prepare', 'abort: restore refused']);
  t.deepEqual(spies.get('node2')?.calls, ['prepare']);
  const ref = { kind: 'restore' as const, id: 'src', backend: 'backup-filesystem', scope: {} };
  t.is(await cluster.node('node1').participant.status(ref), undefined, 'node1’s prepared restore is dropped');
  t.deepEqual(cluster.journal.slice(journalAt), []);
  t.false(coordinator.busy);
});

test('restore() while the coordinator runs another operation is refused and drops what its participants prepared', async (t) => {
  const { cluster, spies, journalAt } = await backedUp(t);
  await cluster.node('node1').db.deleteClass('Article');
  await cluster.node('node2').db.deleteClass('Book');
  const coordinator = cluster.coordinator('node1', { participant: (node) => spies.get(node) as SpyParticipant });
  const hold = cluster.holdChunks();
  t.teardown(() => hold.release());
  await coordinator.backup(cluster.plan('other', ['Extra']), { node1: ['Extra'] });
  await hold.reached;
  await t.throwsAsync(coordinator.restore(cluster.restorePlan('src')), { message: 'backup other already in progress' });
  for (const name of ['node1', 'node2']) {
    t.deepEqual(spies.get(name)?.calls.slice(-2), ['prepare', 'abort: restore refused'], name);
  }
  t.false(cluster.journal.slice(journalAt).some((entry) => /restore/.test(entry)));
  hold.release();
  await idle(coordinator);
  t.is((await cluster.global('other'))?.status, 'SUCCESS', 'the running backup goes on');
});
