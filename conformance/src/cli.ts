import { parseArgs } from 'node:util';
import { DEADLINE_VARIABLE, DEFAULT_DEADLINE_SECONDS, parseDeadline } from './deadline.js';
import { type CheckResult, runConformance } from './runner.js';

const USAGE = `Usage: strata-conformance <module> [options]

Runs the Strata backup provider conformance suite against <module>, loaded as ENABLE_MODULES
loads it (a name such as backup-s3, a package name, or a path to the module's directory), with
its configuration (BACKUP_* variables) from the environment. Every check works under a random
prefix of the configured bucket or directory and removes what it wrote.

Options:
  --strict        fail when any check is skipped for a capability the module does not declare or
                  an option, not for an optional method the module leaves out by design
  --grep <text>   run only the checks whose title includes <text>
  --no-journey    leave out the journeys through Strata nodes
  --etcd <urls>   the client URLs (comma-separated) of a fresh etcd, for the journey through a
                  cluster of three nodes that modules declaring \`external\` get; without it, that
                  journey is skipped
  --deadline <s>  fail a check that takes longer than <s> seconds, naming the backend calls that
                  did not return (default: $${DEADLINE_VARIABLE}, else ${DEFAULT_DEADLINE_SECONDS})
  --app-dir <dir> resolve <module> from <dir> (default: the working directory)
  -h, --help      show this help
`;

/** Where the CLI writes: the process's streams, or a test's. */
export interface CliOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

function line(result: CheckResult): string {
  const mark = result.passed ? '✔' : '✘';
  const failures = result.failures.map((failure) => `\n    ${failure.replaceAll('\n', '\n    ')}`).join('');
  return `  ${mark} ${result.title} (${(result.durationMs / 1000).toFixed(1)} s)${failures}\n`;
}

/**
 * `strata-conformance <module>`: runs the suite, prints a report, and resolves with the exit code:
 * 0 when every check passed (and, with `--strict`, none was skipped but for an optional method), 1
 * otherwise, 2 on bad usage
 * or a module that does not load.
 */
export async function main(argv: readonly string[], output: CliOutput = process): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    output.stderr.write(`strata-conformance: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    output.stdout.write(USAGE);
    return 0;
  }
  const [module] = positionals;
  if (module === undefined || positionals.length > 1) {
    output.stderr.write(`strata-conformance: give exactly one module\n\n${USAGE}`);
    return 2;
  }
  let deadlineSeconds: number | undefined;
  try {
    deadlineSeconds = values.deadline === undefined ? undefined : parseDeadline(values.deadline, '--deadline');
  } catch (error) {
    output.stderr.write(`strata-conformance: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const etcdEndpoints = values.etcd
    ?.split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  if (etcdEndpoints?.length === 0) {
    output.stderr.write(`strata-conformance: --etcd needs at least one URL\n\n${USAGE}`);
    return 2;
  }
  let report: Awaited<ReturnType<typeof runConformance>>;
  try {
    output.stdout.write(`Conformance of ${module}\n`);
    report = await runConformance({
      module,
      ...(values['app-dir'] === undefined ? {} : { appDir: values['app-dir'] }),
      ...(values.grep === undefined ? {} : { grep: values.grep }),
      ...(deadlineSeconds === undefined ? {} : { deadlineSeconds }),
      journey: values['no-journey'] !== true,
      ...(etcdEndpoints === undefined ? {} : { cluster: { etcdEndpoints } }),
      onResult: (result) => output.stdout.write(line(result)),
    });
  } catch (error) {
    output.stderr.write(`strata-conformance: ${module} could not be tested: ${(error as Error).message}\n`);
    return 2;
  }
  for (const { checks, reason, optional } of report.skipped) {
    output.stdout.write(`  - skipped: ${checks} (${reason}${optional === true ? ', optional' : ''})\n`);
  }
  const failed = report.results.filter((result) => !result.passed).length;
  const passed = report.results.length - failed;
  output.stdout.write(`\n${passed} passed, ${failed} failed, ${report.skipped.length} skipped\n`);
  if (values.strict === true && report.skipped.some((skip) => skip.optional !== true)) {
    output.stdout.write('--strict: skipped checks count as failures\n');
    return 1;
  }
  return failed === 0 ? 0 : 1;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      strict: { type: 'boolean' },
      grep: { type: 'string' },
      'no-journey': { type: 'boolean' },
      deadline: { type: 'string' },
      etcd: { type: 'string' },
      'app-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
