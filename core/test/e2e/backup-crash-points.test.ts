import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { BackupHome, type BackupObject } from '../../src/backup/index.js';
import { type BackupNode, gate, readAll, seed, startBackupNode, waitFor } from '../helpers/backups.js';

/**
 * Every durable step of a backup and of a restore, with the node killed there: at each, the data path
 * and the provider are copied at once, synchronously (nothing else in the process runs meanwhile),
 * which is what a kill at that instant leaves on disk. A node started on the copies must settle the
 * operation: nothing STARTED anywhere, FAILED with the reason (or SUCCESS once the outcome was
 * recorded), no staging, no half-written object in the provider, no operation left in the store.
 */

interface CrashPoint {
  readonly kind: 'backup' | 'restore';
  readonly when: 'before' | 'after';
  readonly method: 'write' | 'read';
  /** The object of the backup's layout, and which of the calls for it (from 1). */
  readonly object: BackupObject['kind'];
  readonly n: number;
  readonly step: string;
  /** What the operation must read after the restart; `either` where the kill races the attach's commit. */
  readonly expect: 'FAILED' | 'SUCCESS' | 'either';
}

const POINTS: readonly CrashPoint[] = [
  {
    kind: 'backup',
    when: 'before',
    method: 'write',
    object: 'global',
    n: 1,
    step: 'recorded, STARTED not yet written',
    expect: 'FAILED',
  },
  { kind: 'backup', when: 'after', method: 'write', object: 'global', n: 1, step: 'STARTED written', expect: 'FAILED' },
  {
    kind: 'backup',
    when: 'after',
    method: 'write',
    object: 'chunk',
    n: 1,
    step: 'first chunk uploaded',
    expect: 'FAILED',
  },
  {
    kind: 'backup',
    when: 'after',
    method: 'write',
    object: 'global',
    n: 2,
    step: 'TRANSFERRING written',
    expect: 'FAILED',
  },
  {
    kind: 'backup',
    when: 'before',
    method: 'write',
    object: 'node',
    n: 1,
    step: 'every chunk uploaded',
    expect: 'FAILED',
  },
  {
    kind: 'backup',
    when: 'after',
    method: 'write',
    object: 'node',
    n: 1,
    step: 'node descriptor written',
    expect: 'FAILED',
  },
  {
    kind: 'backup',
    when: 'after',
    method: 'write',
    object: 'global',
    n: 3,
    step: 'TRANSFERRED written',
    expect: 'FAILED',
  },
  {
    kind: 'backup',
    when: 'before',
    method: 'write',
    object: 'global',
    n: 4,
    step: 'outcome recorded, not yet in the provider',
    expect: 'SUCCESS',
  },
  {
    kind: 'backup',
    when: 'after',
    method: 'write',
    object: 'global',
    n: 4,
    step: 'SUCCESS written',
    expect: 'SUCCESS',
  },
  {
    kind: 'restore',
    when: 'before',
    method: 'write',
    object: 'restore',
    n: 1,
    step: 'recorded, STARTED not yet written',
    expect: 'FAILED',
  },
  {
    kind: 'restore',
    when: 'after',
    method: 'write',
    object: 'restore',
    n: 1,
    step: 'STARTED written',
    expect: 'FAILED',
  },
  {
    kind: 'restore',
    when: 'after',
    method: 'write',
    object: 'restore',
    n: 2,
    step: 'TRANSFERRING written',
    expect: 'FAILED',
  },
  {
    kind: 'restore',
    when: 'after',
    method: 'read',
    object: 'chunk',
    n: 1,
    step: 'first chunk downloading',
    expect: 'FAILED',
  },
  {
    kind: 'restore',
    when: 'before',
    method: 'write',
    object: 'restore',
    n: 3,
    step: 'downloaded, attaching',
    expect: 'either',
  },
  {
    kind: 'restore',
    when: 'after',
    method: 'write',
    object: 'restore',
    n: 3,
    step: 'FINALIZING written',
    expect: 'either',
  },
  {
    kind: 'restore',
    when: 'before',
    method: 'write',
    object: 'restore',
    n: 4,
    step: 'attached, outcome not yet in the provider',
    expect: 'SUCCESS',
  },
  {
    kind: 'restore',
    when: 'after',
    method: 'write',
    object: 'restore',
    n: 4,
    step: 'SUCCESS written',
    expect: 'SUCCESS',
  },
];

const ID = 'crash';
const FINISHED = new Set(['SUCCESS', 'FAILED', 'CANCELED']);

async function tempDir(t: ExecutionContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Copies `node`'s data path and provider into `image` when the call of `point` happens, synchronously
 * inside it; resolves once the copies are taken.
 */
function crashAt(node: BackupNode, point: CrashPoint, image: { data: string; backups: string }): Promise<void> {
  const backend = node.node.modules.backend('filesystem');
  const home = new BackupHome(ID);
  const original = backend[point.method];
  const calls = new Map<string, number>();
  const taken = gate();
  let hit = false;
  const take = () => {
    cpSync(node.dataPath, image.data, { recursive: true });
    cpSync(node.backups, image.backups, { recursive: true });
    taken.open();
  };
  // biome-ignore lint/suspicious/noExplicitAny: wraps write(key, body, options) and read(key, options) alike.
  (backend as any)[point.method] = async (key: string, ...rest: any[]) => {
    const object = home.parse(key)?.kind;
    const n = (calls.get(object ?? '') ?? 0) + 1;
    calls.set(object ?? '', n);
    const now = !hit && object === point.object && n === point.n;
    if (now) hit = true;
    if (now && point.when === 'before') take();
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    const result = await (original as any).call(backend, key, ...rest);
    if (now && point.when === 'after') take();
    return result;
  };
  return taken.opened;
}

/** Every file under `dir`, relative to it. */
const filesUnder = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    : [];

for (const point of POINTS) {
  test(`a node killed ${point.when === 'before' ? 'just before' : 'just after'} ${point.kind} step "${point.step}" settles it on restart`, async (t) => {
    const source = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '4KiB' });
    const objects = await seed(source, 'Article', 300, 2);
    const image = { data: await tempDir(t, 'strata-crash-data-'), backups: await tempDir(t, 'strata-crash-backups-') };
    const path = point.kind === 'backup' ? `/v1/backups/filesystem/${ID}` : `/v1/backups/filesystem/${ID}/restore`;
    let crashed: Promise<void>;
    if (point.kind === 'backup') {
      crashed = crashAt(source, point, image);
      t.is((await source.request('POST', '/v1/backups/filesystem', { id: ID })).status, 200);
    } else {
      await source.request('POST', '/v1/backups/filesystem', { id: ID });
      t.is((await waitFor(source, `/v1/backups/filesystem/${ID}`)).body.status, 'SUCCESS');
      await source.request('DELETE', '/v1/schema/Article');
      crashed = crashAt(source, point, image);
      t.is((await source.request('POST', `/v1/backups/filesystem/${ID}/restore`, {})).status, 200);
    }
    await crashed;
    await waitFor(source, path); // the original node goes on; only the copies matter

    const restarted = await startBackupNode(t, {}, { dataPath: image.data, backups: image.backups });
    const status = (await restarted.request('GET', path)).body;
    if (point.expect !== 'either') t.is(status.status, point.expect, JSON.stringify(status));
    if (status.status === 'FAILED') t.is(status.error, `node restarted during ${point.kind}`);
    t.true(status.status === 'SUCCESS' || status.status === 'FAILED', JSON.stringify(status));

    const provider = filesUnder(image.backups);
    t.deepEqual(
      provider.filter((file) => file.includes('.strata-partial-')),
      [],
      'no half-written object is left in the provider',
    );
    for (const file of provider.filter((name) => name.endsWith('.json'))) {
      const descriptor = JSON.parse(readFileSync(join(image.backups, file), 'utf8'));
      t.true(FINISHED.has(descriptor.status), `${file} reads ${descriptor.status}`);
    }
    if (point.kind === 'backup' && status.status === 'FAILED') {
      t.deepEqual(provider, [`${ID}/backup_config.json`], 'the failed backup left only its descriptor');
    }
    t.false(
      readdirSync(image.data).some((name) => name.endsWith('-staging')),
      'staging is gone',
    );
    const store = JSON.parse(readFileSync(join(image.data, 'backup-operations.json'), 'utf8'));
    t.deepEqual(store.operations, [], 'the operation store holds nothing once the operation is settled');

    if (point.kind === 'restore') {
      if (status.status === 'SUCCESS')
        t.deepEqual(await readAll(restarted, 'Article'), objects, 'every object is back');
      else t.is((await restarted.request('GET', '/v1/schema/Article')).status, 404, 'no class is half there');
    } else if (status.status === 'SUCCESS') {
      await restarted.request('DELETE', '/v1/schema/Article');
      await restarted.request('POST', `/v1/backups/filesystem/${ID}/restore`, {});
      t.is((await waitFor(restarted, `/v1/backups/filesystem/${ID}/restore`)).body.status, 'SUCCESS');
      t.deepEqual(await readAll(restarted, 'Article'), objects, 'the backup restores');
    }
  });
}
