import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { makeApp } from '../helpers/app.js';
import { type BackupNode, filesystemModule, readAll, seed, startBackupNode, waitFor } from '../helpers/backups.js';
import { runStrata, strataBin } from '../helpers/run-cli.js';

// `strata backup copy` through the real command. Both ends are the filesystem provider, the target
// under --to-path; copies between different providers are examples/migrate's test (S3 to GCS).

/** A fresh target directory: inside the node's BACKUP_FILESYSTEM_PATH, where config.Path must stay. */
function scratch(node: BackupNode): Promise<string> {
  return mkdtemp(join(node.backups, 'copy-'));
}

/** Every file under `dir` (relative path to SHA-256). */
async function tree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return files;
}

/** A node with class Article in two shards, backed up as `id` (two chunks at least). */
async function backedUp(t: ExecutionContext, id: string): Promise<{ node: BackupNode; objects: Map<string, unknown> }> {
  const node = await startBackupNode(t, { BACKUP_CHUNK_TARGET_SIZE: '1024' });
  const objects = await seed(node, 'Article', 600, 2);
  await node.request('POST', '/v1/backups/filesystem', { id, config: { CompressionLevel: 'BestSpeed' } });
  const done = await waitFor(node, `/v1/backups/filesystem/${id}`);
  if (done.body.status !== 'SUCCESS') throw new Error(`backup ${id}: ${JSON.stringify(done.body)}`);
  return { node, objects };
}

/** The counts a resumed copy's last line gives. */
function countsOf(stdout: string): { objects: number; copiedNow: number; skipped: number } {
  const [, objects, copiedNow, skipped] =
    /: (\d+) objects, .*, (\d+) copied, (\d+) already there and verified;/.exec(stdout) ?? [];
  return { objects: Number(objects), copiedNow: Number(copiedNow), skipped: Number(skipped) };
}

const copy = (node: BackupNode, args: string[]) =>
  runStrata(['backup', 'copy', ...args], {
    env: { ENABLE_MODULES: filesystemModule, BACKUP_FILESYSTEM_PATH: node.backups },
  });

test('copies a backup object for object, verified, and the copy restores', async (t) => {
  const { node, objects } = await backedUp(t, 'nightly-1');
  const target = await scratch(node);
  const copied = await copy(node, [
    'nightly-1',
    '--from',
    'filesystem',
    '--to',
    'backup-filesystem',
    '--to-path',
    target,
  ]);
  t.is(copied.code, 0, copied.stderr);
  t.regex(
    copied.stdout,
    new RegExp(
      `^(COPYING .*\\n)*copied backup nightly-1 to ${join(target, 'nightly-1')} in \\d+\\.\\d s: (\\d+) objects, [\\d.]+ KiB, \\2 copied; every object verified\\n$`,
    ),
  );
  const source = await tree(join(node.backups, 'nightly-1'));
  t.true(Object.keys(source).filter((key) => key.includes('/chunk-')).length >= 2);
  t.deepEqual(await tree(join(target, 'nightly-1')), source);

  await node.request('DELETE', '/v1/schema/Article');
  await node.request('POST', '/v1/backups/filesystem/nightly-1/restore', { config: { Path: target } });
  const restored = await waitFor(node, `/v1/backups/filesystem/nightly-1/restore?path=${encodeURIComponent(target)}`);
  t.is(restored.body.status, 'SUCCESS', restored.body.error);
  t.deepEqual(await readAll(node, 'Article'), objects);
});

test('an interrupted copy resumes: objects already there and verified are skipped, damaged ones copied again', async (t) => {
  const { node } = await backedUp(t, 'resumed');
  const target = await scratch(node);
  const args = ['resumed', '--from', 'filesystem', '--to', 'filesystem', '--to-path', target];
  t.is((await copy(node, args)).code, 0);
  // What an interruption leaves: no global descriptor, a chunk missing; and one damaged in place.
  const home = join(target, 'resumed');
  const chunks = Object.keys(await tree(home)).filter((key) => key.includes('/chunk-'));
  await rm(join(home, 'backup_config.json'));
  await rm(join(home, chunks[0] as string));
  const damaged = join(home, chunks[1] as string);
  const bytes = await readFile(damaged);
  bytes[0] = (bytes[0] as number) ^ 0xff;
  await writeFile(damaged, bytes);

  const resumed = await copy(node, args);
  t.is(resumed.code, 0, resumed.stderr);
  const { objects, copiedNow, skipped } = countsOf(resumed.stdout);
  t.is(copiedNow, 3, 'the missing chunk, the damaged one and the global descriptor');
  t.is(skipped, objects - 3);
  t.deepEqual(await tree(home), await tree(join(node.backups, 'resumed')));
});

/**
 * A provider `backup-gated` over the same directory as backup-filesystem whose reads of chunks hang
 * after the first `BACKUP_GATED_OPEN_READS`, until the call is aborted. It says so on stderr, so a
 * test knows the copy is mid-way when it interrupts it.
 */
const gatedModule = `import { BACKUP_BACKEND, defineBackupModule, parsers } from '@strata/core';
import { FilesystemBackend } from ${JSON.stringify(pathToFileURL(join(filesystemModule, 'dist/src/index.js')).href)};
export default defineBackupModule({
  name: 'backup-gated',
  altNames: ['gated'],
  apiVersion: 1,
  capabilities: { external: false, pathScope: 'directory' },
  config: {
    path: { name: 'BACKUP_GATED_PATH', required: true, parse: parsers.absolutePath, description: 'The directory.' },
    open: {
      name: 'BACKUP_GATED_OPEN_READS',
      required: true,
      parse: parsers.integer({ min: 0 }),
      description: 'Chunk reads let through.',
    },
  },
  async register({ container, config }) {
    const backend = new FilesystemBackend({ root: config.path });
    await backend.init();
    let chunkReads = 0;
    const read = backend.read.bind(backend);
    backend.read = (key, options) => {
      if (!key.includes('/chunk-') || ++chunkReads <= config.open) return read(key, options);
      if (chunkReads === config.open + 1) process.stderr.write('gate: holding ' + key + '\\n');
      // A timer stands for the socket a real read waits on: without it, Node would exit (code 13).
      const held = setInterval(() => {}, 1000);
      return new Promise((_, reject) =>
        options.signal.addEventListener('abort', () => {
          clearInterval(held);
          reject(options.signal.reason);
        }),
      );
    };
    container.register(BACKUP_BACKEND, { useValue: backend });
  },
});
`;

test('Ctrl-C (SIGINT) stops a copy with exit 130 and no backup in the target; the same command resumes it', async (t) => {
  const { node } = await backedUp(t, 'nightly-2');
  const target = await scratch(node);
  const app = await makeApp([{ name: 'strata-backup-gated', files: { 'index.js': gatedModule } }]);
  t.teardown(app.remove);
  const args = ['nightly-2', '--to', 'filesystem', '--to-path', target, '--concurrency', '1'];
  const env = {
    PATH: process.env.PATH ?? '',
    ENABLE_MODULES: `${filesystemModule},backup-gated`,
    BACKUP_FILESYSTEM_PATH: node.backups,
    BACKUP_GATED_PATH: node.backups,
    BACKUP_GATED_OPEN_READS: '1',
  };
  const child = spawn(process.execPath, [strataBin, 'backup', 'copy', ...args, '--from', 'gated'], {
    cwd: app.dir,
    env,
  });
  child.stdout.resume();
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString();
    if (stderr.includes('gate: holding') && !child.killed) child.kill('SIGINT');
  });
  t.is(await exited, 130, stderr);
  t.regex(stderr, /strata: copy of nightly-2 interrupted; run the same command again to resume it\n$/);
  const left = Object.keys(await tree(join(target, 'nightly-2')));
  t.false(left.includes('backup_config.json'), 'an interrupted copy is no backup');
  t.is(left.filter((key) => key.includes('/chunk-')).length, 1, 'the chunk read before the gate');

  const resumed = await runStrata(['backup', 'copy', ...args, '--from', 'filesystem'], { cwd: app.dir, env });
  t.is(resumed.code, 0, resumed.stderr);
  const { objects, copiedNow, skipped } = countsOf(resumed.stdout);
  t.is(skipped, 1, 'the chunk copied before the interruption');
  t.is(copiedNow + skipped, objects);
  t.deepEqual(await tree(join(target, 'nightly-2')), await tree(join(node.backups, 'nightly-2')));
});

test('refuses to overwrite a backup that exists in the target, whatever its state', async (t) => {
  const { node } = await backedUp(t, 'twice');
  const target = await scratch(node);
  const args = ['twice', '--from', 'filesystem', '--to', 'filesystem', '--to-path', target];
  t.is((await copy(node, args)).code, 0);
  const before = await tree(join(target, 'twice'));
  const again = await copy(node, args);
  t.is(again.code, 1);
  t.is(
    again.stderr,
    `strata: cannot copy backup "twice" to ${join(target, 'twice')}: a copy never overwrites a backup; delete it there first, or copy to another location\n`,
  );
  t.deepEqual(await tree(join(target, 'twice')), before);

  const onto = await copy(node, ['twice', '--from', 'filesystem', '--to', 'filesystem']);
  t.is(onto.code, 1);
  t.regex(onto.stderr, /that is where it is copied from; choose another --to, --to-bucket or --to-path\n$/);
});

test('a chunk that does not match its checksum fails the copy and is not written', async (t) => {
  const { node } = await backedUp(t, 'rotten');
  const target = await scratch(node);
  const chunk = Object.keys(await tree(join(node.backups, 'rotten'))).find((key) => key.includes('/chunk-')) as string;
  const path = join(node.backups, 'rotten', chunk);
  const bytes = await readFile(path);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
  await writeFile(path, bytes);

  const copied = await copy(node, ['rotten', '--from', 'filesystem', '--to', 'filesystem', '--to-path', target]);
  t.is(copied.code, 1);
  t.regex(
    copied.stderr,
    new RegExp(
      `^strata: corrupted backup file: backup-filesystem: rotten/${chunk}: it does not match its checksum \\(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\\)\\n$`,
    ),
  );
  const written = await tree(join(target, 'rotten')).catch(() => ({}));
  t.false(chunk in written, 'the damaged chunk is not in the target');
  t.false('backup_config.json' in written, 'the target holds no backup');
});

test('refuses a backup that is missing or did not succeed, and says why', async (t) => {
  const { node } = await backedUp(t, 'failed');
  const target = await scratch(node);
  const missing = await copy(node, ['nope', '--from', 'filesystem', '--to', 'filesystem', '--to-path', target]);
  t.is(missing.code, 1);
  t.is(
    missing.stderr,
    `strata: backup id "nope" does not exist: metadata not found: ${join(node.backups, 'nope', 'backup_config.json')}\n`,
  );

  const descriptor = join(node.backups, 'failed', 'backup_config.json');
  const global = JSON.parse(await readFile(descriptor, 'utf8'));
  await writeFile(descriptor, JSON.stringify({ ...global, status: 'FAILED', error: 'disk full' }));
  const failed = await copy(node, ['failed', '--from', 'filesystem', '--to', 'filesystem', '--to-path', target]);
  t.is(failed.code, 1);
  t.is(
    failed.stderr,
    'strata: backup "failed" in backup-filesystem is FAILED (disk full): only a finished (SUCCESS) backup can be copied\n',
  );
  await t.throwsAsync(stat(join(target, 'failed')), { code: 'ENOENT' }, 'nothing written');
});

test('usage errors: missing id, --from or --to, a backend not enabled, a bad --concurrency', async (t) => {
  const { node } = await backedUp(t, 'usage');
  const cases: Array<[string[], number, RegExp]> = [
    [[], 2, /^strata: strata backup copy: missing <id>\nRun `strata backup copy --help` for usage\.\n$/],
    [['usage', '--from', 'filesystem'], 2, /needs --from <backend> and --to <backend>/],
    [
      ['usage', '--from', 'filesystem', '--to', 's3'],
      1,
      /no backup backend "s3": backup: s3 not found, did you enable the right module\?/,
    ],
    [
      ['usage', '--from', 'fs', '--to', 'filesystem', '--concurrency', '0'],
      2,
      /--concurrency must be a whole number from 1 to 64, got "0"/,
    ],
  ];
  for (const [args, code, message] of cases) {
    const result = await copy(node, args);
    t.is(result.code, code, args.join(' '));
    t.regex(result.stderr, message);
  }
  const help = await runStrata(['backup', 'copy', '--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /^Usage: strata backup copy <id> --from <backend> --to <backend>/);
});
