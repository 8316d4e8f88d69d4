import { CliUsageError } from '../../errors.js';
import { StrataNode } from '../../node/node.js';
import { type CliIO, type Command, parseCommandArgs } from '../command.js';

const help = `Usage: strata serve [--host <address>] [--port <port>]

Starts a Strata node: its data under PERSISTENCE_DATA_PATH (default ./data), the modules in
ENABLE_MODULES, and Weaviate's v1 REST API on http://<host>:<port>/v1. Logs are JSON lines on
stdout, one per request. SIGTERM or SIGINT stops it gracefully: no new requests, requests in flight
finish, every store is flushed; the exit status is then 0.

Options:
  --host <address>  interface to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --port <port>     port to listen on (default 8080; 0 picks a free port, named in the log)
  -h, --help        show this help

Configuration: docs/configuration.md. API: docs/api.md.
`;

function portOf(raw: string | undefined): number {
  if (raw === undefined) return 8080;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535)
    throw new CliUsageError(`--port must be a number from 0 to 65535, got "${raw}"`, 'strata serve --help');
  return port;
}

async function run(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs('serve', args, { host: { type: 'string' }, port: { type: 'string' } });
  if (values.help) {
    io.stdout.write(help);
    return 0;
  }
  const node = await StrataNode.start({
    env: io.env,
    appDir: io.cwd,
    host: values.host ?? '127.0.0.1',
    port: portOf(values.port),
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      node.logger.info({ signal }, 'received signal');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await node.stop();
  return 0;
}

export const serveCommand: Command = { help, run };
