/**
 * LocalParticipant on its own, as coordinators call it: commit is idempotent (an adopting coordinator
 * commits again), a prepared job is dropped when no commit comes within PREPARED_TTL_MS, an abort after
 * a held restore succeeded releases what it holds, and a restore is refused when the node descriptor
 * lacks a class backup_config.json lists for that node.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mock } from 'node:test';
import test, { type ExecutionContext } from 'ava';
import { PREPARED_TTL_MS } from '../../src/backup/local-participant.js';
import type { OperationRef, PrepareBackup, PrepareRestore } from '../../src/backup/participant.js';
import { type Cluster, outcomeOf, settled, startCluster } from './cluster-nodes.js';

const ref = (kind: 'backup' | 'restore', id: string): OperationRef => ({
  kind,
  id,
  backend: 'backup-filesystem',
  scope: {},
});

const backupOf = (id: string, classes: readonly string[] = ['Article']): PrepareBackup => ({
  ...ref('backup', id),
  kind: 'backup',
  classes,
  compression: 'DefaultCompression',
  concurrency: 2,
  startedAt: new Date().toISOString(),
});

const restoreOf = (id: string, include?: readonly string[]): PrepareRestore => ({
  ...ref('restore', id),
  kind: 'restore',
  backupNode: 'node1',
  include,
  concurrency: 2,
});

async function oneNode(t: ExecutionContext, options: { holdRestores?: boolean } = {}) {
  const cluster = await startCluster(t, { node1: { Article: 40 } }, options);
  return { cluster, participant: cluster.node('node1').participant };
}

/** Backs up node1's Article as `id` through its participant alone. */
async function backUp(cluster: Cluster, id: string) {
  const { participant } = cluster.node('node1');
  await participant.prepare(backupOf(id));
  await participant.commit(ref('backup', id));
  return outcomeOf(participant, ref('backup', id));
}

test('commit() twice starts the job once; commit() of a finished job resolves', async (t) => {
  const { participant } = await oneNode(t);
  await participant.prepare(backupOf('twice'));
  await participant.commit(ref('backup', 'twice'));
  await t.notThrowsAsync(participant.commit(ref('backup', 'twice')));
  const events = [];
  for await (const event of participant.events(ref('backup', 'twice'))) events.push(event);
  t.deepEqual(
    events.map((event) => (event.type === 'done' ? event.outcome : event.phase)),
    ['TRANSFERRING', 'TRANSFERRED', 'SUCCESS'],
    'one run',
  );
  await t.notThrowsAsync(participant.commit(ref('backup', 'twice')));
  t.like(await participant.status(ref('backup', 'twice')), { phase: 'DONE' });
});

test('commit() of a job never prepared throws a TypeError naming it', async (t) => {
  const { participant } = await oneNode(t);
  await t.throwsAsync(participant.commit(ref('backup', 'never')), {
    instanceOf: TypeError,
    message: 'commit: backup never is not prepared',
  });
  t.throws(() => participant.events(ref('backup', 'never')), {
    instanceOf: TypeError,
    message: 'events: no backup never on node1',
  });
  t.is(await participant.status(ref('backup', 'never')), undefined);
});

test('prepare() of an operation it holds already throws BackupInProgressError; abort() of a prepared one drops it', async (t) => {
  const { participant } = await oneNode(t);
  await participant.prepare(backupOf('held-key'));
  await t.throwsAsync(participant.prepare(backupOf('held-key')), {
    message: 'backup held-key already in progress',
  });
  await participant.abort(ref('backup', 'held-key'), 'coordinator gave up');
  t.is(await participant.status(ref('backup', 'held-key')), undefined);
  await t.notThrowsAsync(participant.prepare(backupOf('held-key')));
  await participant.abort(ref('backup', 'held-key'), 'test over');
});

test.serial('a prepared job not committed within PREPARED_TTL_MS is dropped; a committed one is not', async (t) => {
  const { participant } = await oneNode(t);
  t.is(PREPARED_TTL_MS, 60_000);
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    await participant.prepare(backupOf('ttl'));
    mock.timers.tick(PREPARED_TTL_MS - 1);
    t.like(await participant.status(ref('backup', 'ttl')), { phase: 'STARTED' }, 'held until the TTL');
    mock.timers.tick(1);
    t.is(await participant.status(ref('backup', 'ttl')), undefined, 'dropped at the TTL');

    await participant.prepare(backupOf('ttl-committed'));
    await participant.commit(ref('backup', 'ttl-committed'));
    mock.timers.tick(PREPARED_TTL_MS);
  } finally {
    mock.timers.reset();
  }
  await t.throwsAsync(participant.commit(ref('backup', 'ttl')), { message: 'commit: backup ttl is not prepared' });
  await t.notThrowsAsync(participant.prepare(backupOf('ttl')), 'its key is free again');
  await participant.abort(ref('backup', 'ttl'), 'test over');
  t.like(await outcomeOf(participant, ref('backup', 'ttl-committed')), { outcome: 'SUCCESS' });
});

test('abort() after a held restore succeeded releases what it holds (twice is fine)', async (t) => {
  const { cluster, participant } = await oneNode(t, { holdRestores: true });
  t.like(await backUp(cluster, 'b1'), { outcome: 'SUCCESS' });
  const { db, dataPath } = cluster.node('node1');
  await db.deleteClass('Article');

  const prepared = await participant.prepare(restoreOf('b1', ['Article']));
  t.deepEqual(prepared.classes, ['Article']);
  await participant.commit(ref('restore', 'b1'));
  t.like(await outcomeOf(participant, ref('restore', 'b1')), { outcome: 'SUCCESS' });
  t.true(existsSync(join(dataPath, 'article')), 'held in place');
  t.is(db.getClass('Article'), undefined, 'not a class until the cluster creates it');

  await participant.abort(ref('restore', 'b1'), 'the coordinator could not create the classes');
  t.false(existsSync(join(dataPath, 'article')), 'released');
  await t.notThrowsAsync(participant.abort(ref('restore', 'b1'), 'again'));
});

test('abort() after a restore attached its classes (a single node) leaves them', async (t) => {
  const { cluster, participant } = await oneNode(t);
  await backUp(cluster, 'b2');
  const { db } = cluster.node('node1');
  await db.deleteClass('Article');
  await participant.prepare(restoreOf('b2'));
  await participant.commit(ref('restore', 'b2'));
  await settled(participant, ref('restore', 'b2'));
  await participant.abort(ref('restore', 'b2'), 'too late');
  t.is((await db.listObjects({ className: 'Article', limit: 100 })).length, 40);
});

test('prepare() of a restore naming a class the node descriptor lacks is refused as a corrupt backup', async (t) => {
  const { cluster, participant } = await oneNode(t);
  await backUp(cluster, 'b3');
  await cluster.node('node1').db.deleteClass('Article');
  const error = await t.throwsAsync(participant.prepare(restoreOf('b3', ['Article', 'Book'])));
  t.is((error as { code?: string } | undefined)?.code, 'STRATA_BACKUP_CORRUPT');
  t.is(
    error?.message,
    'corrupted backup file: b3/node1/backup.json: it does not hold class Book, which backup_config.json lists for node node1',
  );
  t.is(await participant.status(ref('restore', 'b3')), undefined, 'nothing held');
});

test('prepare() of a restore from a node without a node descriptor is refused as a corrupt backup', async (t) => {
  const { cluster, participant } = await oneNode(t);
  await backUp(cluster, 'b4');
  const error = await t.throwsAsync(participant.prepare({ ...restoreOf('b4'), backupNode: 'node2' }));
  t.is(error?.message, 'corrupted backup file: b4/node2/backup.json: the node descriptor is missing');
});
