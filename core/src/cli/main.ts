// tsyringe needs the Reflect metadata polyfill before it is first imported.
import 'reflect-metadata';
import { CliUsageError, StrataError } from '../errors.js';
import { CORE_VERSION } from '../version.js';
import type { CliIO, Command } from './command.js';

/** Every command, with the one line `strata --help` shows; each is imported only when it runs. */
const commands: Record<string, { readonly summary: string; load(): Promise<Command> }> = {
  serve: {
    summary: 'start a node: the REST API, over the data in PERSISTENCE_DATA_PATH',
    load: async () => (await import('./commands/serve.js')).serveCommand,
  },
  backup: {
    summary: 'create, follow, list, cancel and restore backups through a running node',
    load: async () => (await import('./commands/backup.js')).backupCommand,
  },
  conformance: {
    summary: 'run the backup provider conformance suite against a module (needs @strata/conformance)',
    load: async () => (await import('./commands/conformance.js')).conformanceCommand,
  },
  modules: {
    summary: 'list the enabled modules and their configuration (secrets redacted)',
    load: async () => (await import('./commands/modules.js')).modulesCommand,
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`);
  return [
    'Usage: strata <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    '  -h, --help     show help (also: strata <command> --help)',
    '  -v, --version  print the version of @strata/core',
    '',
    'Configuration comes from environment variables: see docs/configuration.md.',
    '',
  ].join('\n');
}

async function dispatch(argv: readonly string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic === undefined) {
      io.stdout.write(usage());
      return 0;
    }
    return dispatch([topic, '--help'], io);
  }
  if (first === '-v' || first === '--version') {
    io.stdout.write(`${CORE_VERSION}\n`);
    return 0;
  }
  const command = commands[first];
  if (command === undefined) throw new CliUsageError(`unknown command "${first}"`, 'strata --help');
  return (await command.load()).run(rest, io);
}

/**
 * Runs the `strata` command line and resolves with the exit code. The one place errors are turned
 * into output: a Strata error prints its message (usage errors exit 2, others 1); anything else is a
 * bug and prints its stack.
 */
export async function runCli(argv: readonly string[], io?: CliIO): Promise<number> {
  const cli: CliIO = io ?? { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
  try {
    return await dispatch(argv, cli);
  } catch (error) {
    if (error instanceof StrataError) {
      cli.stderr.write(`strata: ${error.message}\n`);
      return CliUsageError.is(error) ? 2 : 1;
    }
    cli.stderr.write(
      `strata: unexpected error (a bug in Strata; please report it):\n${(error as Error)?.stack ?? error}\n`,
    );
    return 1;
  }
}
