import { mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { type CopyEnd, type CopyProgress, copyBackup } from '../../src/backup/index.js';
import { hasCode } from '../../src/errors.js';
import { loadModules } from '../../src/modules/index.js';
import type { BackupBackend } from '../../src/provider/backend.js';
import { filesystemModule, seed, startBackupNode, waitFor } from '../helpers/backups.js';

// copyBackup itself, where a test can stop it part-way or damage what the target returns.

async function setUp(t: ExecutionContext): Promise<{ from: CopyEnd; to: CopyEnd; target: string }> {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '1024' });
  await seed(node, 'Article', 600, 2);
  await node.request('POST', '/v1/backups/filesystem', { id: 'b1', config: { CompressionLevel: 'BestSpeed' } });
  t.is((await waitFor(node, '/v1/backups/filesystem/b1')).body.status, 'SUCCESS');
  // Inside BACKUP_FILESYSTEM_PATH, where config.Path must stay.
  const target = await mkdtemp(join(node.backups, 'copy-'));
  const registry = await loadModules({
    enableModules: filesystemModule,
    env: { BACKUP_FILESYSTEM_PATH: node.backups },
  });
  t.teardown(() => registry.close());
  const backend = registry.backend('filesystem');
  return {
    from: { name: 'backup-filesystem', backend },
    to: { name: 'backup-filesystem', backend, scope: { path: target } },
    target,
  };
}

test('stopped after some chunks, a copy leaves no backup in the target; run again, it copies only the rest', async (t) => {
  const { from, to, target } = await setUp(t);
  const abort = new AbortController();
  const seen: CopyProgress[] = [];
  const stopped = copyBackup({
    id: 'b1',
    from,
    to,
    concurrency: 1,
    signal: abort.signal,
    onProgress: (progress) => {
      seen.push(progress);
      if (progress.doneObjects === 2) abort.abort(new Error('stop'));
    },
  });
  await t.throwsAsync(stopped, { message: 'stop' });
  const left = await readdir(join(target, 'b1'));
  t.false(left.includes('backup_config.json'), 'an unfinished copy is no backup');

  const result = await copyBackup({ id: 'b1', from, to });
  t.is(result.skipped, 2);
  t.is(result.copied, result.objects - 2);
  t.true(result.objects >= 4, `${result.objects} objects`);
  t.is(seen[0]?.doneObjects, 0);
  t.is(seen[0]?.totalBytes, result.bytes);
});

test('an object that reads back wrong from the target fails the copy and is deleted there', async (t) => {
  const { from, to, target } = await setUp(t);
  const real = to.backend;
  const lying: BackupBackend = {
    homePath: (id, scope) => real.homePath(id, scope),
    checkAccess: (options) => real.checkAccess(options),
    write: (key, body, options) => real.write(key, body, options),
    list: (prefix, options) => real.list(prefix, options),
    delete: (key, options) => real.delete(key, options),
    async read(key, options) {
      const stream = await real.read(key, options);
      if (!key.endsWith('/chunk-1')) return stream;
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      bytes[0] = (bytes[0] as number) ^ 0xff;
      return Readable.from([bytes]);
    },
  };
  const error = await t.throwsAsync(copyBackup({ id: 'b1', from, to: { ...to, backend: lying } }));
  t.true(hasCode(error, 'STRATA_BACKUP_COPY_VERIFY'), error?.message);
  t.regex(
    error?.message ?? '',
    /^copied backup-filesystem: b1\/node1\/Article\/chunk-1, but it reads back wrong: it does not match its checksum \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\); the object was deleted from the target, run the copy again$/,
  );
  const written = await readdir(join(target, 'b1', 'node1', 'Article'));
  t.false(written.includes('chunk-1'));
});
