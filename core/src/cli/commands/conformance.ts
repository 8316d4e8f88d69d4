import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliConformanceMissingError } from '../../errors.js';
import type { CliIO, Command } from '../command.js';

const help = `Usage: strata conformance <module> [options]

Runs the backup provider conformance suite (@strata/conformance, installed beside your
application) against <module>, loaded exactly as ENABLE_MODULES loads it, with its BACKUP_*
variables from the environment. Same as running strata-conformance; its options:

  --strict        fail when any check is skipped for a capability the module does not declare or
                  an option, not for an optional method the module leaves out by design
  --grep <text>   run only the checks whose title includes <text>
  --no-journey    leave out the journeys through Strata nodes
  --etcd <urls>   the client URLs (comma-separated) of a fresh etcd, for the journey through a
                  cluster of three nodes that modules declaring \`external\` get; without it, that
                  journey is skipped
  --deadline <s>  fail a check that takes longer than <s> seconds, naming the backend calls that
                  did not return (default: $STRATA_CONFORMANCE_DEADLINE, else 120)
  -h, --help      show this help

Example:
  BACKUP_FILESYSTEM_PATH=/tmp/conformance strata conformance backup-filesystem
`;

/** The suite's own CLI entry point, as @strata/conformance exports it. */
type SuiteMain = (argv: readonly string[], output: Pick<CliIO, 'stdout' | 'stderr'>) => Promise<number>;

export const conformanceCommand: Command = {
  help,
  async run(args, io) {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(help);
      return 0;
    }
    let entry: string;
    try {
      entry = createRequire(join(io.cwd, 'package.json')).resolve('@strata/conformance');
    } catch {
      throw new CliConformanceMissingError(io.cwd);
    }
    const { main } = (await import(pathToFileURL(entry).href)) as { main: SuiteMain };
    return main([...args, '--app-dir', io.cwd], io);
  },
};
