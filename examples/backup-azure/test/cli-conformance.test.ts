import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startAzurite, startEtcd } from '@strata/testing';
import test from 'ava';

// What an author runs: the `strata` command resolving `backup-azure` by name, as ENABLE_MODULES does,
// from a directory where strata-backup-azure and @strata/conformance are installed (the repository root).
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const strataBin = fileURLToPath(new URL('../../../../core/bin/strata.js', import.meta.url));

test('strata conformance backup-azure passes against azurite', async (t) => {
  const azurite = await startAzurite({ containers: ['cli'] });
  t.teardown(() => azurite.stop());
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [strataBin, 'conformance', 'backup-azure', '--strict', '--etcd', etcd.endpoint],
      { cwd: root, env: { PATH: process.env.PATH ?? '', ...azurite.env('cli') }, maxBuffer: 16 * 1024 * 1024 },
      (error, out) => resolve({ code: error === null ? 0 : Number(error.code), stdout: out }),
    );
  });
  t.is(code, 0, stdout);
  t.regex(stdout, /^Conformance of backup-azure\n/);
  t.regex(stdout, /✔ journey: a node backs up classes while writes go on; deleted and restored, every object is back/);
  t.regex(stdout, /✔ cluster journey: three nodes back up two classes through node2/);
  // Azure discards a write's uncommitted blocks itself: the backend has no discardPartialWrites, by design.
  t.regex(stdout, /- skipped: discarding what interrupted writes left \(method discardPartialWrites, optional\)\n/);
  t.regex(stdout, /\n\d+ passed, 0 failed, 1 skipped\n$/);
});
