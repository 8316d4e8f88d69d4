import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { migrate } from '../src/migration.js';

test.serial('a backup taken to S3, copied to GCS, restores on a fresh node with every object identical', async (t) => {
  const lines: string[] = [];
  const { before, after, copySummary, restoredFrom } = await migrate({ objects: 3000, log: (l) => lines.push(l) });
  t.is(before.size, 3000);
  t.deepEqual(after, before);
  t.regex(
    copySummary,
    /^copied backup migrate-1 to gs:\/\/new-backups\/migrate-1 in [\d.]+ s: \d+ objects, .* copied; every object verified$/,
  );
  t.is(restoredFrom, 'gs://new-backups/migrate-1');
  t.true(lines.some((line) => line.includes('strata backup copy migrate-1 --from s3 --to gcs')));
});

test.serial('the documented script runs the migration and checks every object', async (t) => {
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [main], (error, out, err) =>
      resolve({ code: error === null ? 0 : Number(error.code), stdout: out, stderr: err }),
    );
  });
  t.is(code, 0, stderr);
  t.regex(stdout, /✔ every one of the 5000 objects came back identical \([\d.]+ s\)\n$/);
});
