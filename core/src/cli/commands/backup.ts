import { CliOperationFailedError, CliUsageError } from '../../errors.js';
import { type CliIO, type Command, parseCommandArgs } from '../command.js';
import { NodeClient } from '../node-client.js';
import { formatBytes, progressPrinter } from '../progress-bar.js';
import { runBackupCopy } from './backup-copy.js';

const help = `Usage: strata backup <action> <backend> [<id>] [options]

Backs up and restores through a running node's REST API (Weaviate's /v1/backups); copy works on
the providers directly.

Actions:
  create <backend> <id>    start a backup of all classes, or of --include/--exclude
  status <backend> <id>    show a backup's status (--restore: its latest restore's)
  restore <backend> <id>   restore a backup, all classes or --include/--exclude
  list <backend>           list the backups in the backend's configured location
  cancel <backend> <id>    cancel a running backup (--restore: a running restore)
  copy <id> --from <backend> --to <backend>
                           copy a finished backup between two enabled providers, in this
                           process, no node needed (strata backup copy --help)

Options:
  --include <A,B>          classes to back up or restore (Weaviate's * and ? wildcards work)
  --exclude <A,B>          classes to leave out
  --compression <level>    DefaultCompression, BestSpeed, BestCompression (gzip), ZstdBestSpeed,
                           ZstdDefaultCompression, ZstdBestCompression (zstd) or NoCompression
  --cpu <percent>          share of CPUs to use, 1 to 80 (default 50)
  --bucket <name>          use this bucket instead of the provider's
  --path <prefix>          use this path instead of the provider's
  --node-mapping <a=b>     restore: the backup's node a becomes this node b
  --restore                status and cancel act on the restore
  --order <asc|desc>       list: by start time (default desc)
  --json                   print the node's JSON reply
  --wait                   create, restore, status: follow until finished, with a progress bar;
                           exit 1 if it ends FAILED or CANCELED
  --url <url>              the node (default $STRATA_URL or http://127.0.0.1:8080)
  --api-key <key>          API key (default $STRATA_API_KEY)
  -h, --help               show this help

Example:
  strata backup create filesystem nightly-1 --include 'Article*' --wait
`;

const options = {
  include: { type: 'string' },
  exclude: { type: 'string' },
  compression: { type: 'string' },
  cpu: { type: 'string' },
  bucket: { type: 'string' },
  path: { type: 'string' },
  'node-mapping': { type: 'string' },
  restore: { type: 'boolean' },
  order: { type: 'string' },
  json: { type: 'boolean' },
  wait: { type: 'boolean' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
} as const;

interface Status {
  id: string;
  status: string;
  path: string;
  error?: string;
  progress?: { doneBytes: number; totalBytes: number };
}

const list = (raw: string | undefined) =>
  raw
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const FINISHED = new Set(['SUCCESS', 'FAILED', 'CANCELED']);

function cpuOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 80)
    throw new CliUsageError(`--cpu must be a whole number from 1 to 80, got "${raw}"`, 'strata backup --help');
  return value;
}

function mappingOf(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  return Object.fromEntries(
    raw.split(',').map((pair) => {
      const [from, to] = pair.split('=');
      if (!from || !to)
        throw new CliUsageError(`--node-mapping takes old=new pairs, got "${pair}"`, 'strata backup --help');
      return [from.trim(), to.trim()];
    }),
  );
}

/** Polls a status until it is finished, drawing progress; throws when it did not succeed. */
async function follow(client: NodeClient, path: string, what: string, io: CliIO): Promise<void> {
  const progress = progressPrinter(io.stdout);
  for (;;) {
    const status = await client.request<Status>('GET', path);
    if (FINISHED.has(status.status)) {
      progress.end();
      if (status.status !== 'SUCCESS') throw new CliOperationFailedError(what, status.status, status.error ?? '');
      io.stdout.write(`${what} SUCCESS in ${progress.seconds().toFixed(1)} s: ${status.path}\n`);
      return;
    }
    progress.update(status.status, status.progress?.doneBytes ?? 0, status.progress?.totalBytes ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function scopeQuery(values: { bucket?: string; path?: string }): string {
  const query = new URLSearchParams();
  if (values.bucket) query.set('bucket', values.bucket);
  if (values.path) query.set('path', values.path);
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

async function run(args: readonly string[], io: CliIO): Promise<number> {
  if (args[0] === 'copy') return runBackupCopy(args.slice(1), io);
  const { values, positionals } = parseCommandArgs('backup', args, options, 3);
  if (values.help) {
    io.stdout.write(help);
    return 0;
  }
  const [action, backend, id] = positionals;
  const needs = (count: number) => {
    if (positionals.length < count)
      throw new CliUsageError(
        `strata backup ${action ?? ''}: missing ${count === 2 ? '<backend>' : '<backend> <id>'}`,
        'strata backup --help',
      );
  };
  const client = new NodeClient(
    values.url ?? io.env.STRATA_URL ?? 'http://127.0.0.1:8080',
    values['api-key'] ?? io.env.STRATA_API_KEY,
  );
  const config = {
    ...(values.compression === undefined ? {} : { CompressionLevel: values.compression }),
    ...(cpuOf(values.cpu) === undefined ? {} : { CPUPercentage: cpuOf(values.cpu) }),
    ...(values.bucket === undefined ? {} : { Bucket: values.bucket }),
    ...(values.path === undefined ? {} : { Path: values.path }),
  };
  const print = (reply: unknown, text: string) =>
    io.stdout.write(values.json ? `${JSON.stringify(reply, null, 2)}\n` : `${text}\n`);
  switch (action) {
    case 'create': {
      needs(3);
      const reply = await client.request<Status & { classes: string[] }>('POST', `/v1/backups/${backend}`, {
        id,
        include: list(values.include),
        exclude: list(values.exclude),
        config,
      });
      print(reply, `backup ${reply.id} ${reply.status} to ${reply.path} (classes: ${reply.classes.join(', ')})`);
      if (values.wait) await follow(client, `/v1/backups/${backend}/${id}${scopeQuery(values)}`, `backup ${id}`, io);
      return 0;
    }
    case 'restore': {
      needs(3);
      const reply = await client.request<Status & { classes: string[] }>(
        'POST',
        `/v1/backups/${backend}/${id}/restore`,
        {
          include: list(values.include),
          exclude: list(values.exclude),
          node_mapping: mappingOf(values['node-mapping']),
          config,
        },
      );
      print(reply, `restore of ${reply.id} ${reply.status} from ${reply.path} (classes: ${reply.classes.join(', ')})`);
      if (values.wait)
        await follow(client, `/v1/backups/${backend}/${id}/restore${scopeQuery(values)}`, `restore of ${id}`, io);
      return 0;
    }
    case 'status': {
      needs(3);
      const path = `/v1/backups/${backend}/${id}${values.restore ? '/restore' : ''}${scopeQuery(values)}`;
      if (values.wait) {
        await follow(client, path, values.restore ? `restore of ${id}` : `backup ${id}`, io);
        return 0;
      }
      const reply = await client.request<Status>('GET', path);
      const progress =
        reply.progress === undefined
          ? ''
          : ` (${formatBytes(reply.progress.doneBytes)} of ${formatBytes(reply.progress.totalBytes)})`;
      print(reply, `${reply.id} ${reply.status}${progress}${reply.error ? `: ${reply.error}` : ''}`);
      return reply.status === 'FAILED' || reply.status === 'CANCELED' ? 1 : 0;
    }
    case 'list': {
      needs(2);
      const reply = await client.request<Array<{ id: string; status: string; startedAt: string; classes: string[] }>>(
        'GET',
        `/v1/backups/${backend}?order=${values.order ?? 'desc'}`,
      );
      print(
        reply,
        reply.map((b) => `${b.startedAt}  ${b.status.padEnd(12)} ${b.id}  (${b.classes.join(', ')})`).join('\n') ||
          'no backups',
      );
      return 0;
    }
    case 'cancel': {
      needs(3);
      await client.request(
        'DELETE',
        `/v1/backups/${backend}/${id}${values.restore ? '/restore' : ''}${scopeQuery(values)}`,
      );
      io.stdout.write(`${values.restore ? 'restore of' : 'backup'} ${id} canceled\n`);
      return 0;
    }
    default:
      throw new CliUsageError(
        action === undefined ? 'strata backup needs an action' : `unknown action "${action}"`,
        'strata backup --help',
      );
  }
}

export const backupCommand: Command = { help, run };
