/**
 * restoredRecords: the class records a cluster's restore creates, built from the recorded state (its
 * attachments, nodes mapped) and the backup's node descriptors (the definitions), so an adopting
 * coordinator builds the same ones.
 */
import test, { type ExecutionContext } from 'ava';
import type { Attachment, OperationState } from '../../src/backup/operation-store.js';
import { restoredRecords } from '../../src/backup/restored-classes.js';
import type { BackupBackend } from '../../src/provider/backend.js';
import { idle, startCluster } from './cluster-nodes.js';

/** Two nodes, one class each, backed up as `rc`. */
async function backedUp(t: ExecutionContext) {
  const cluster = await startCluster(t, { node1: { Article: 20 }, node2: { Book: 20 } });
  const coordinator = cluster.coordinator('node1');
  const plan = cluster.plan('rc', ['Article', 'Book']);
  await coordinator.backup(plan, cluster.nodeClasses(plan.classes));
  await idle(coordinator);
  const definitions = {
    Article: cluster.node('node1').db.getClass('Article'),
    Book: cluster.node('node2').db.getClass('Book'),
  };
  const shards = {
    Article: cluster
      .node('node1')
      .db.placement('Article')
      .map((shard) => shard.name),
    Book: cluster
      .node('node2')
      .db.placement('Book')
      .map((shard) => shard.name),
  };
  return { cluster, definitions, shards };
}

/** A restore of `rc` whose participants prepared `attaches`. */
const restoreState = (attaches: readonly Attachment[], id = 'rc'): OperationState => ({
  kind: 'restore',
  id,
  backend: 'backup-filesystem',
  backendNames: ['backup-filesystem', 'filesystem'],
  scope: {},
  home: `/backups/${id}`,
  startedAt: new Date().toISOString(),
  classes: attaches.map((attach) => attach.class),
  nodes: [...new Set(attaches.map((attach) => attach.node ?? 'node1'))],
  compression: 'DefaultCompression',
  attaches,
  status: 'FINALIZING',
  error: '',
  completedAt: '0001-01-01T00:00:00.000Z',
  preCompressionSizeBytes: 0,
  committed: true,
});

/** `backend`, counting the keys read and refusing every read when `reads` is false. */
function counting(backend: BackupBackend, reads = true) {
  const keys: string[] = [];
  const wrapped: BackupBackend = {
    ...backend,
    homePath: (id, scope) => backend.homePath(id, scope),
    list: (prefix, options) => backend.list(prefix, options),
    read: async (key, options) => {
      keys.push(key);
      if (!reads) throw new Error(`read ${key}: no read expected (test)`);
      return backend.read(key, options);
    },
  };
  return { backend: wrapped, keys };
}

test('restoredRecords() of classes the schema holds already, placed as restored, is [] and reads nothing', async (t) => {
  const { cluster, shards } = await backedUp(t);
  const { backend, keys } = counting(cluster.backend, false);
  const state = restoreState([{ class: 'Article', shards: shards.Article, node: 'node1' }]);
  t.deepEqual(await restoredRecords(backend, state, cluster.node('node1').db), []);
  t.deepEqual(keys, []);
});

test('restoredRecords() defines each class as the node descriptor holding it does, placed on the nodes that restored it', async (t) => {
  const { cluster, definitions, shards } = await backedUp(t);
  const { db } = cluster.node('node1');
  await db.deleteClass('Article');
  const { backend, keys } = counting(cluster.backend);
  const state = restoreState([
    { class: 'Article', shards: shards.Article, node: 'node5' },
    { class: 'Book', shards: shards.Book, node: 'node6' },
  ]);
  const records = await restoredRecords(backend, state, db);
  t.deepEqual(records, [
    { definition: definitions.Article, shards: shards.Article.map((name) => ({ name, node: 'node5' })) },
    { definition: definitions.Book, shards: shards.Book.map((name) => ({ name, node: 'node6' })) },
  ]);
  t.deepEqual(keys, ['rc/backup_config.json', 'rc/node1/backup.json', 'rc/node2/backup.json'], 'each read once');
});

test('restoredRecords() of a class placed elsewhere than restored builds its record anyway (creating it is refused then)', async (t) => {
  const { cluster, shards } = await backedUp(t);
  const state = restoreState([{ class: 'Article', shards: shards.Article, node: 'node5' }]);
  const records = await restoredRecords(cluster.backend, state, cluster.node('node1').db);
  t.deepEqual(
    records.map((record) => record.shards),
    [shards.Article.map((name) => ({ name, node: 'node5' }))],
  );
});

test('restoredRecords() places the shards of an attachment without a node (a single node’s) on this node', async (t) => {
  const { cluster, shards } = await backedUp(t);
  const { db } = cluster.node('node2');
  await db.deleteClass('Book');
  const records = await restoredRecords(cluster.backend, restoreState([{ class: 'Book', shards: shards.Book }]), db);
  t.deepEqual(
    records[0]?.shards,
    shards.Book.map((name) => ({ name, node: 'node2' })),
  );
});

const CORRUPT: ReadonlyArray<readonly [string, Attachment, string]> = [
  ['a class no node of the backup holds', { class: 'Ghost', shards: ['s1'], node: 'node1' }, 'rc'],
  ['a backup whose backup_config.json is gone', { class: 'Article', shards: ['s1'], node: 'node1' }, 'gone'],
];

for (const [name, attach, id] of CORRUPT) {
  test(`restoredRecords() of ${name} throws BackupCorruptError`, async (t) => {
    const { cluster } = await backedUp(t);
    await cluster.node('node1').db.deleteClass('Article');
    const error = await t.throwsAsync(
      restoredRecords(cluster.backend, restoreState([attach], id), cluster.node('node1').db),
    );
    t.is((error as { code?: string } | undefined)?.code, 'STRATA_BACKUP_CORRUPT');
    t.is(
      error?.message,
      `corrupted backup file: ${id}/backup_config.json: no node descriptor defines class ${attach.class}`,
    );
  });
}
