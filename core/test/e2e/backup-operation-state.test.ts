import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  type BackupNode,
  filesystemModule,
  gate,
  holdChunks,
  readAll,
  seed,
  startBackupNode,
  waitFor,
} from '../helpers/backups.js';
import { startNode } from '../helpers/node.js';

/** What the operation store keeps of operations: outcomes the provider refused, and interrupted ones. */

async function tempDir(t: ExecutionContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const statusIn = async (file: string) => JSON.parse(await readFile(file, 'utf8')).status;

test('an outcome the provider refused is kept: status answers it, and the next start records it', async (t) => {
  const dataPath = await tempDir(t, 'strata-node-');
  const first = await startBackupNode(t, {}, { dataPath });
  await seed(first, 'Article', 50);
  const backend = first.node.modules.backend('filesystem');
  const write = backend.write.bind(backend);
  let globals = 0;
  backend.write = async (key, body, options) => {
    // STARTED, TRANSFERRING, TRANSFERRED, then the outcome: refused.
    if (key === 'kept/backup_config.json' && ++globals === 4) throw new Error('EIO: the provider is down');
    return write(key, body, options);
  };
  await first.request('POST', '/v1/backups/filesystem', { id: 'kept' });
  t.like((await waitFor(first, '/v1/backups/filesystem/kept')).body, { status: 'SUCCESS' });
  t.is(await statusIn(join(first.backups, 'kept', 'backup_config.json')), 'TRANSFERRED', 'the provider lacks it');
  t.truthy(first.logs.find((line) => line.msg === 'could not record the outcome of backup kept'));
  await first.stop();

  const second = await startBackupNode(t, {}, { dataPath, backups: first.backups });
  t.like((await second.request('GET', '/v1/backups/filesystem/kept')).body, { status: 'SUCCESS' });
  t.is(await statusIn(join(first.backups, 'kept', 'backup_config.json')), 'SUCCESS', 'written on start-up');
  t.truthy(second.logs.find((line) => /^marked backup kept SUCCESS/.test(String(line.msg))));
});

test('an interrupted backup whose module is no longer enabled answers FAILED, and is cleaned once it is', async (t) => {
  const source = await startBackupNode(t);
  await seed(source, 'Article', 300);
  const hold = holdChunks(source, 'write');
  await source.request('POST', '/v1/backups/filesystem', { id: 'orphan', config: { CPUPercentage: 1 } });
  await hold.reached;
  // What a crash at this moment leaves: the data path with the operation recorded, STARTED in the provider.
  const crashed = await tempDir(t, 'strata-crashed-');
  await cp(source.dataPath, crashed, { recursive: true });
  const backups = await tempDir(t, 'strata-backups-');
  await cp(source.backups, backups, { recursive: true });
  hold.unhold();

  const bare = await startNode(t, {}, { dataPath: crashed });
  for (const name of ['filesystem', 'backup-filesystem']) {
    t.like(
      (await bare.request('GET', `/v1/backups/${name}/orphan`)).body,
      { id: 'orphan', status: 'FAILED', error: 'node restarted during backup' },
      name,
    );
  }
  t.is((await bare.request('GET', '/v1/backups/filesystem/other')).status, 422, 'other ids: the module is not enabled');
  t.truthy(bare.logs.find((line) => /^cannot settle the interrupted backup orphan/.test(String(line.msg))));
  t.regex(
    await statusIn(join(backups, 'orphan', 'backup_config.json')),
    /^(STARTED|TRANSFERRING)$/,
    'the provider was not reachable',
  );
  await bare.stop();

  const enabled = await startBackupNode(t, { ENABLE_MODULES: filesystemModule }, { dataPath: crashed, backups });
  t.like((await enabled.request('GET', '/v1/backups/filesystem/orphan')).body, {
    status: 'FAILED',
    error: 'node restarted during backup',
  });
  t.is(await statusIn(join(backups, 'orphan', 'backup_config.json')), 'FAILED');
  t.deepEqual(await readdir(join(backups, 'orphan'), { recursive: true }), ['backup_config.json'], 'chunks deleted');
  const store = JSON.parse(await readFile(join(crashed, 'backup-operations.json'), 'utf8'));
  t.deepEqual(store.operations, []);
});

test('a cancel recorded before a crash ends the backup CANCELED on restart', async (t) => {
  const source = await startBackupNode(t);
  await seed(source, 'Article', 300);
  const hold = holdChunks(source, 'write');
  await source.request('POST', '/v1/backups/filesystem', { id: 'recalled', config: { CPUPercentage: 1 } });
  await hold.reached;
  // Copy when the canceled upload starts deleting its chunks: the cancel is recorded, the outcome is not.
  const backend = source.node.modules.backend('filesystem');
  const remove = backend.delete.bind(backend);
  const deleting = gate();
  const released = gate();
  backend.delete = async (key, options) => {
    deleting.open();
    await released.opened;
    return remove(key, options);
  };
  const canceling = source.request('DELETE', '/v1/backups/filesystem/recalled');
  await deleting.opened;
  const crashed = await tempDir(t, 'strata-crashed-');
  await cp(source.dataPath, crashed, { recursive: true });
  const backups = await tempDir(t, 'strata-backups-');
  await cp(source.backups, backups, { recursive: true });
  const recorded = JSON.parse(await readFile(join(crashed, 'backup-operations.json'), 'utf8'));
  t.like(recorded.operations[0], { id: 'recalled', status: 'CANCELLING', cancelRequested: true });
  released.open();
  await canceling;

  const restarted = await startBackupNode(t, {}, { dataPath: crashed, backups });
  t.like((await restarted.request('GET', '/v1/backups/filesystem/recalled')).body, {
    status: 'CANCELED',
    error: 'backup canceled by user',
  });
  t.deepEqual(await readdir(join(backups, 'recalled'), { recursive: true }), ['backup_config.json']);
});

/** Makes the filesystem backend refuse the `n`th write of `key` (from 1). */
function refuseWrite(node: BackupNode, key: string, n: number): void {
  const backend = node.node.modules.backend('filesystem');
  const write = backend.write.bind(backend);
  let writes = 0;
  backend.write = async (written, body, options) => {
    if (written === key && ++writes === n) throw new Error('EIO: i/o error');
    return write(written, body, options);
  };
}

test('a descriptor the provider refuses mid-run fails the backup with the reason, and its chunks go', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 100);
  refuseWrite(node, 'midway/backup_config.json', 2); // TRANSFERRING
  t.is((await node.request('POST', '/v1/backups/filesystem', { id: 'midway' })).status, 200);
  t.like((await waitFor(node, '/v1/backups/filesystem/midway')).body, { status: 'FAILED', error: 'EIO: i/o error' });
  t.deepEqual(await readdir(join(node.backups, 'midway'), { recursive: true }), ['backup_config.json']);
  t.is(await statusIn(join(node.backups, 'midway', 'backup_config.json')), 'FAILED');
});

test('a STARTED descriptor the provider refuses fails the request; nothing stays recorded, the next backup runs', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 20);
  refuseWrite(node, 'refused/backup_config.json', 1);
  const refused = await node.request('POST', '/v1/backups/filesystem', { id: 'refused' });
  t.is(refused.status, 500);
  t.is((await node.request('GET', '/v1/backups/filesystem/refused')).status, 404);
  const store = JSON.parse(await readFile(join(node.dataPath, 'backup-operations.json'), 'utf8'));
  t.deepEqual(store.operations, []);
  await node.request('POST', '/v1/backups/filesystem', { id: 'next' });
  t.like((await waitFor(node, '/v1/backups/filesystem/next')).body, { status: 'SUCCESS' });
});

test('a restore attaching its classes cannot be canceled, and ends SUCCESS', async (t) => {
  const node = await startBackupNode(t);
  const objects = await seed(node, 'Article', 100);
  await node.request('POST', '/v1/backups/filesystem', { id: 'final' });
  await waitFor(node, '/v1/backups/filesystem/final');
  await node.request('DELETE', '/v1/schema/Article');
  // Hold the FINALIZING descriptor: the restore is attaching while it waits.
  const backend = node.node.modules.backend('filesystem');
  const write = backend.write.bind(backend);
  let writes = 0;
  const finalizing = gate();
  const proceed = gate();
  backend.write = async (key, body, options) => {
    if (key === 'final/restore_config.json' && ++writes === 3) {
      finalizing.open();
      await proceed.opened;
    }
    return write(key, body, options);
  };
  await node.request('POST', '/v1/backups/filesystem/final/restore', {});
  await finalizing.opened;
  const cancel = await node.request('DELETE', '/v1/backups/filesystem/final/restore');
  t.is(cancel.status, 422);
  t.is(cancel.body.error[0].message, 'restore "final" is applying schema changes and cannot be cancelled');
  proceed.open();
  t.like((await waitFor(node, '/v1/backups/filesystem/final/restore')).body, { status: 'SUCCESS' });
  t.deepEqual(await readAll(node, 'Article'), objects);
});

test('canceling a backup or restore that succeeded is refused with 422', async (t) => {
  const node = await startBackupNode(t);
  await seed(node, 'Article', 10);
  await node.request('POST', '/v1/backups/filesystem', { id: 'done' });
  await waitFor(node, '/v1/backups/filesystem/done');
  const backup = await node.request('DELETE', '/v1/backups/filesystem/done');
  t.deepEqual([backup.status, backup.body.error[0].message], [422, 'backup "done" already succeeded']);
  await node.request('DELETE', '/v1/schema/Article');
  await node.request('POST', '/v1/backups/filesystem/done/restore', {});
  await waitFor(node, '/v1/backups/filesystem/done/restore');
  const restore = await node.request('DELETE', '/v1/backups/filesystem/done/restore');
  t.deepEqual([restore.status, restore.body.error[0].message], [422, 'restore "done" already succeeded']);
});
