import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const main = fileURLToPath(new URL('../src/main.js', import.meta.url));

test('the quickstart imports a dataset, backs it up while writing, loses it and restores it whole', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-quickstart-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const env = {
    PATH: process.env.PATH ?? '',
    PERSISTENCE_DATA_PATH: join(dir, 'data'),
    BACKUP_FILESYSTEM_PATH: join(dir, 'backups'),
  };
  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    execFile(process.execPath, [main], { env }, (error, stdout, stderr) =>
      error === null ? resolve({ stdout }) : reject(new Error(`${error.message}\n${stdout}\n${stderr}`)),
    );
  });
  t.regex(stdout, /✔ node node1 listening on http:\/\/127\.0\.0\.1:\d+/);
  t.regex(stdout, /✔ module backup-filesystem \d+\.\d+\.\d+ loaded/);
  t.regex(stdout, /importing articles \[█{24}\] 1000\/1000/);
  t.regex(stdout, /✔ imported 1000 articles in/);
  t.regex(stdout, /✔ paged through all 1000 articles with the 'after' cursor/);
  t.regex(
    stdout,
    new RegExp(`✔ backup quickstart-\\d+ STARTED for Article, to ${join(dir, 'backups')}/quickstart-\\d+`),
  );
  t.regex(stdout, /backing up \[█{24}\] \d+ KiB\/\d+ KiB/);
  t.regex(stdout, /✔ backup SUCCESS: \d+ KiB of files; \d+ writes went on meanwhile, 0 failed/);
  t.regex(stdout, /restoring \[█{24}\]/);
  t.regex(stdout, /✔ restore SUCCESS: all 1000 articles are back, every object identical/);
});
