import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClusterNode, startCluster, startS3Server } from '@strata/testing';
import test from 'ava';
import { createSpreadClasses, finished, readSpread, SPREAD_CLASSES, seedSpread } from '../../src/backup-helpers.js';

// The strata command, unchanged, with a backup that spans three nodes: create and restore with
// --wait through different nodes, and `strata backup copy` of the multi-node backup to another bucket.

const strataBin = join(dirname(createRequire(import.meta.url).resolve('@strata/core/package.json')), 'bin/strata.js');
/** The e2e package, where ENABLE_MODULES=backup-s3 resolves for `strata backup copy`. */
const packageDir = fileURLToPath(new URL('../../../', import.meta.url));

function strata(args: readonly string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [strataBin, ...args],
      { cwd: packageDir, env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

test('strata backup create --wait and restore --wait through different nodes; strata backup copy of a three-node backup restores', async (t) => {
  const s3 = await startS3Server({ buckets: ['backups', 'copies'] });
  t.teardown(() => s3.stop());
  const env = { ENABLE_MODULES: 'backup-s3', ...s3.env('backups') };
  const cluster = await startCluster({ nodes: 3, env });
  t.teardown(() => cluster.stop());
  const [node1, node2, node3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  await createSpreadClasses(node1);
  const seeded = await seedSpread(node1, 400);

  const created = await strata(['backup', 'create', 's3', 'cli-spread', '--wait', '--url', node2.url]);
  t.is(created.code, 0, created.stderr);
  t.regex(created.stdout.trim().split('\n').at(-1) ?? '', /^backup cli-spread SUCCESS in \d+\.\d s: /);

  const copied = await strata(
    ['backup', 'copy', 'cli-spread', '--from', 's3', '--to', 's3', '--to-bucket', 'copies'],
    env,
  );
  t.is(copied.code, 0, copied.stderr);

  for (const { class: name } of SPREAD_CLASSES) t.is((await node1.request('DELETE', `/v1/schema/${name}`)).status, 200);
  const restored = await strata([
    'backup',
    'restore',
    's3',
    'cli-spread',
    '--wait',
    '--bucket',
    'copies',
    '--url',
    node3.url,
  ]);
  t.is(restored.code, 0, restored.stderr);
  t.regex(restored.stdout, /restore of cli-spread SUCCESS in /);
  t.is((await finished(node1, '/v1/backups/s3/cli-spread/restore?bucket=copies')).status, 'SUCCESS');
  const back = await readSpread(node2);
  t.is(back.size, seeded.size);
  for (const [id, object] of seeded) {
    const got = back.get(id);
    t.deepEqual(got === undefined ? undefined : { class: got.class, id: got.id, properties: got.properties }, object);
  }
});
