// Moving a backup between providers: node A backs up to S3, `strata backup copy` moves the backup to
// Google Cloud Storage, and node B, on a fresh data directory with the same node name, restores it
// from there. The storage servers are local (s3rver and the Cloud Storage emulator, from
// @strata/testing); against real buckets only their environment variables change.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  readAll,
  seedClass,
  startGcsEmulator,
  startS3Server,
  startTestNode,
  type TestNode,
  waitForStatus,
} from '@strata/testing';

/** What {@link migrate} did, for the caller to check. */
export interface Migration {
  /** Node A's objects, by id, when it was backed up. */
  readonly before: Map<string, unknown>;
  /** Node B's objects, by id, after the restore from GCS. */
  readonly after: Map<string, unknown>;
  /** What `strata backup copy` printed last: the summary line. */
  readonly copySummary: string;
  /** Where the backup lives in GCS. */
  readonly restoredFrom: string;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Objects in the sample class (default 5,000). */
  readonly objects?: number;
  /** Where progress goes (default nowhere). */
  readonly log?: (line: string) => void;
}

const ID = 'migrate-1';
const CLASS = 'Article';
/** `strata`, as installed beside this example. */
const strataBin = join(dirname(createRequire(import.meta.url).resolve('@strata/core/package.json')), 'bin/strata.js');

/** Runs `strata <args>` as a user would, echoing its output; resolves with the last line it printed. */
function strata(args: readonly string[], env: Record<string, string>, log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [strataBin, ...args], { env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
      for (const line of data
        .toString()
        .split(/[\r\n]/)
        .filter(Boolean))
        log(`    ${line}`);
    });
    child.stderr.on('data', (data: Buffer) => {
      output += data.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = output.trim().split('\n');
      if (code === 0) resolve(lines.at(-1) ?? '');
      else reject(new Error(`strata ${args.join(' ')} exited ${code}:\n${output}`));
    });
  });
}

async function finished(node: TestNode, path: string): Promise<{ path: string }> {
  const reply = await waitForStatus(node, path);
  if (reply.body.status !== 'SUCCESS') throw new Error(`${path}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Runs the whole migration; every server and node it starts is stopped before it returns. */
export async function migrate(options: MigrateOptions = {}): Promise<Migration> {
  const log = options.log ?? (() => {});
  const cleanups: Array<() => Promise<void>> = [];
  const resources = { teardown: (fn: () => Promise<void>) => cleanups.push(fn) };
  try {
    const s3 = await startS3Server({ buckets: ['old-backups'] });
    cleanups.push(() => s3.stop());
    const gcs = await startGcsEmulator({ buckets: ['new-backups'] });
    cleanups.push(() => gcs.stop());
    log(`✔ S3 at ${s3.endpoint}, Cloud Storage at ${gcs.endpoint}`);

    // Chunks of 256 KiB instead of 16 MiB, so even this small class travels as several objects.
    const a = await startTestNode(resources, {
      ENABLE_MODULES: 'backup-s3',
      BACKUP_CHUNK_TARGET_SIZE: '256KiB',
      ...s3.env('old-backups'),
    });
    const before = await seedClass(a, CLASS, options.objects ?? 5000, { shards: 2, padding: 200 });
    await a.request('POST', '/v1/backups/s3', { id: ID });
    const backup = await finished(a, `/v1/backups/s3/${ID}`);
    log(`✔ node A: ${before.size} objects backed up to ${backup.path}`);

    log(`  strata backup copy ${ID} --from s3 --to gcs`);
    const copySummary = await strata(
      ['backup', 'copy', ID, '--from', 's3', '--to', 'gcs'],
      { ENABLE_MODULES: 'backup-s3,backup-gcs', ...s3.env('old-backups'), ...gcs.env('new-backups') },
      log,
    );

    const b = await startTestNode(resources, { ENABLE_MODULES: 'backup-gcs', ...gcs.env('new-backups') });
    await b.request('POST', `/v1/backups/gcs/${ID}/restore`, {});
    const restored = await finished(b, `/v1/backups/gcs/${ID}/restore`);
    const after = await readAll(b, CLASS);
    log(`✔ node B (fresh data directory): ${after.size} objects restored from ${restored.path}`);
    return { before, after, copySummary, restoredFrom: restored.path };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
