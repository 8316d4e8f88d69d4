import { type CopyEnd, copyBackup } from '../../backup/copy.js';
import { BackendNotEnabledError, CliUsageError } from '../../errors.js';
import { loadModules } from '../../modules/load.js';
import type { ModuleRegistry } from '../../modules/registry.js';
import { type CliIO, parseCommandArgs } from '../command.js';
import { formatBytes, progressPrinter } from '../progress-bar.js';

export const copyHelp = `Usage: strata backup copy <id> --from <backend> --to <backend> [options]

Copies a finished (SUCCESS) backup from one provider to another, for example from S3 to Google
Cloud Storage, without a node: both providers are loaded from ENABLE_MODULES and their BACKUP_*
variables, exactly as a node loads them, from the current directory.

Every chunk is checked against the SHA-256 its backup descriptor records while it streams, and every
object is read back from the target and checked again. The backup's descriptor is copied last, so
the target holds a backup only once all of it is there. Interrupted (Ctrl-C, a lost connection),
the same command resumes: objects already copied and verified are not copied again. A backup that
already exists in the target is never overwritten.

Options:
  --from <backend>         the provider holding the backup (backup-s3 or s3, ...)
  --to <backend>           the provider to copy it to
  --from-bucket <name>     read from this bucket instead of the provider's configured one
  --from-path <prefix>     read from this path instead of the provider's configured one
  --to-bucket <name>       write to this bucket instead of the provider's configured one
  --to-path <prefix>       write to this path instead of the provider's configured one
  --concurrency <n>        chunks copied at once, 1 to 64 (default 4)
  -h, --help               show this help

Example:
  ENABLE_MODULES=backup-s3,backup-gcs BACKUP_S3_BUCKET=old BACKUP_GCS_BUCKET=new \\
    strata backup copy nightly-1 --from s3 --to gcs
`;

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  'from-bucket': { type: 'string' },
  'from-path': { type: 'string' },
  'to-bucket': { type: 'string' },
  'to-path': { type: 'string' },
  concurrency: { type: 'string' },
} as const;

const USAGE = 'strata backup copy --help';

function concurrencyOf(raw: string | undefined): number {
  if (raw === undefined) return 4;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 64) {
    throw new CliUsageError(`--concurrency must be a whole number from 1 to 64, got "${raw}"`, USAGE);
  }
  return value;
}

/** One end of the copy: the enabled module answering to `name`, and the scope the options give. */
function endOf(registry: ModuleRegistry, name: string, bucket: string | undefined, path: string | undefined): CopyEnd {
  const module = registry.find(name);
  if (module === undefined) throw new BackendNotEnabledError(name);
  const scope = { ...(bucket === undefined ? {} : { bucket }), ...(path === undefined ? {} : { path }) };
  return { name: module.name, backend: module.backend, scope };
}

/** `strata backup copy`: runs in this process over the enabled providers, not through a node. */
export async function runBackupCopy(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('backup copy', args, options, 1);
  if (values.help) {
    io.stdout.write(copyHelp);
    return 0;
  }
  const [id] = positionals;
  if (id === undefined) throw new CliUsageError('strata backup copy: missing <id>', USAGE);
  if (values.from === undefined || values.to === undefined) {
    throw new CliUsageError('strata backup copy needs --from <backend> and --to <backend>', USAGE);
  }
  const concurrency = concurrencyOf(values.concurrency);
  const registry = await loadModules({ env: io.env, appDir: io.cwd });
  const abort = new AbortController();
  const interrupt = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const progress = progressPrinter(io.stdout);
  try {
    const result = await copyBackup({
      id,
      from: endOf(registry, values.from, values['from-bucket'], values['from-path']),
      to: endOf(registry, values.to, values['to-bucket'], values['to-path']),
      concurrency,
      signal: abort.signal,
      onProgress: (p) =>
        progress.update('COPYING', p.doneBytes, p.totalBytes, `  ${p.doneObjects}/${p.objects} objects`),
    });
    progress.end();
    const seconds = progress.seconds().toFixed(1);
    const resumed = result.skipped === 0 ? '' : `, ${result.skipped} already there and verified`;
    io.stdout.write(
      `copied backup ${id} to ${result.path} in ${seconds} s: ${result.objects} objects, ${formatBytes(result.bytes)}, ` +
        `${result.copied} copied${resumed}; every object verified\n`,
    );
    return 0;
  } catch (error) {
    progress.end();
    if (abort.signal.aborted) {
      io.stderr.write(`strata: copy of ${id} interrupted; run the same command again to resume it\n`);
      return 130;
    }
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await registry.close();
  }
}
