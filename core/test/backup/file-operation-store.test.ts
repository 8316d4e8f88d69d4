import test from 'ava';
import { FileOperationStore, MAX_UNRECORDED_OPERATIONS } from '../../src/backup/file-operation-store.js';
import type { OperationState } from '../../src/backup/operation-store.js';
import { CrashableFs } from '../store/helpers/crashable-fs.js';

const DATA = '/data';

function freshFs(): CrashableFs {
  const fs = new CrashableFs();
  fs.mkdirSync(DATA);
  return fs;
}

function state(id: string, status: OperationState['status'] = 'STARTED'): OperationState {
  return {
    kind: 'backup',
    id,
    backend: 'backup-filesystem',
    backendNames: ['backup-filesystem', 'filesystem'],
    scope: {},
    home: `/backups/${id}`,
    startedAt: '2026-12-02T00:00:00.000Z',
    classes: ['Article'],
    nodes: ['node1'],
    compression: 'DefaultCompression',
    status,
    error: '',
    completedAt: '0001-01-01T00:00:00.000Z',
    preCompressionSizeBytes: 0,
  };
}

test('a recorded operation survives a power failure the moment put resolves (file and directory are synced)', async (t) => {
  const fs = freshFs();
  const store = FileOperationStore.open(fs, DATA);
  await store.put(state('first'));
  const after = FileOperationStore.open(fs.crash(), DATA);
  t.deepEqual(
    (await after.list()).map((s) => s.id),
    ['first'],
  );
  await store.remove(state('first'));
  t.deepEqual(await FileOperationStore.open(fs.crash(), DATA).list(), [], 'and so does forgetting it');
});

test('a write that fails leaves the store as it was, in memory and on disk', async (t) => {
  const fs = freshFs();
  const store = FileOperationStore.open(fs, DATA);
  await store.put(state('kept'));
  fs.failWriteAfter(0, 10);
  await t.throwsAsync(store.put({ ...state('kept'), status: 'CANCELLING' }), { code: 'ENOSPC' });
  const statuses = async (s: FileOperationStore) => (await s.list()).map((o) => [o.id, o.status]);
  t.deepEqual(await statuses(store), [['kept', 'STARTED']]);
  t.deepEqual(await statuses(FileOperationStore.open(fs.crash(), DATA)), [['kept', 'STARTED']]);
  await store.put(state('next'));
  t.deepEqual(await statuses(FileOperationStore.open(fs.crash(), DATA)), [
    ['kept', 'STARTED'],
    ['next', 'STARTED'],
  ]);
});

test('finished operations the provider lacks are kept up to a bound; the running one is never dropped', async (t) => {
  const fs = freshFs();
  const store = FileOperationStore.open(fs, DATA);
  await store.put(state('running'));
  for (let i = 0; i < MAX_UNRECORDED_OPERATIONS + 20; i++) await store.put(state(`done-${i}`, 'FAILED'));
  const ids = (await store.list()).map((s) => s.id);
  t.is(ids.length, MAX_UNRECORDED_OPERATIONS);
  t.true(ids.includes('running'));
  t.true(ids.includes(`done-${MAX_UNRECORDED_OPERATIONS + 19}`), 'the newest are kept');
  t.false(ids.includes('done-0'), 'the oldest are dropped');
});

test("an earlier version's journal becomes a recorded operation, so start-up settles it", async (t) => {
  const fs = freshFs();
  const journal = {
    kind: 'restore',
    id: 'old',
    backend: 'backup-s3',
    scope: { bucket: 'b' },
    startedAt: '2026-11-01T00:00:00.000Z',
    attaches: [{ class: 'Article', shards: ['abc'] }],
  };
  const fd = fs.openSync(`${DATA}/backup-journal.json`, 'w');
  fs.writeSync(fd, Buffer.from(JSON.stringify(journal)), 0, JSON.stringify(journal).length, 0);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const store = FileOperationStore.open(fs, DATA);
  t.like((await store.list())[0], { ...journal, status: 'STARTED', backendNames: ['backup-s3'] });
  t.false(fs.list(DATA).includes('backup-journal.json'), 'the journal is gone once its operation is recorded');
  t.is((await FileOperationStore.open(fs, DATA).list()).length, 1);
});

test('a damaged operations file is refused, never discarded', (t) => {
  const fs = freshFs();
  const fd = fs.openSync(`${DATA}/backup-operations.json`, 'w');
  fs.writeSync(fd, Buffer.from('{"version":1,"operat'), 0, 20, 0);
  fs.closeSync(fd);
  const error = t.throws(() => FileOperationStore.open(fs, DATA), {
    message: /^cannot read the backup operations file \/data\/backup-operations\.json: .*Move it aside/,
  });
  t.like(error, { code: 'STRATA_BACKUP_OPERATIONS_FILE' });
  t.true(fs.list(DATA).includes('backup-operations.json'));
});
