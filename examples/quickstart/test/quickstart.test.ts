import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const main = fileURLToPath(new URL('../src/main.js', import.meta.url));

test('the quickstart loads the filesystem provider, writes, reads back, lists and deletes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-quickstart-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH ?? '', BACKUP_FILESYSTEM_PATH: dir };
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    execFile(process.execPath, [main], { env }, (error, stdout, stderr) =>
      error === null ? resolve({ stdout }) : reject(new Error(`${error.message}\n${stdout}\n${stderr}`)),
    );
  });
  const checks = stdout.split('\n').filter((line) => line.startsWith('✔'));
  t.is(checks.length, 6, stdout);
  t.regex(stdout, /✔ loaded backup-filesystem \d+\.\d+\.\d+ \(module API 1, alt names: filesystem\), local storage/);
  t.regex(stdout, /writing quickstart-\d+\/sample\.bin \[█{24}\] 100%/);
  t.regex(stdout, /✔ read it back: 64\.0 MiB, sha256 [0-9a-f]{16}… matches/);
  t.deepEqual(await readdir(dir), [], 'the quickstart left files behind');
});
