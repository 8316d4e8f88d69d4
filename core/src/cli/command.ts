import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliUsageError } from '../errors.js';

/** What a command reads and writes, so tests and embedders can run it without a real process. */
export interface CliIO {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** One `strata <name>` command; each lives in its own file under commands/ and is imported only when run. */
export interface Command {
  /** The full text of `strata <name> --help`. */
  readonly help: string;
  /** Runs the command and resolves with the process exit code. */
  run(args: readonly string[], io: CliIO): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed arguments: each option's value (a boolean or a string) and the positional arguments. */
export interface ParsedArgs<O extends Options> {
  readonly values: { readonly [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string } & {
    readonly help?: boolean;
  };
  readonly positionals: string[];
}

/**
 * Parses a command's arguments strictly: unknown options and more than `maxPositionals` positional
 * arguments are usage errors that point at --help. Every command accepts `--help` / `-h`.
 */
export function parseCommandArgs<O extends Options>(
  command: string,
  args: readonly string[],
  options: O,
  maxPositionals = 0,
): ParsedArgs<O> {
  let parsed: ParsedArgs<O>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    }) as ParsedArgs<O>;
  } catch (error) {
    throw new CliUsageError((error as Error).message, `strata ${command} --help`);
  }
  const extra = parsed.positionals.slice(maxPositionals);
  if (extra.length > 0 && !parsed.values.help) {
    throw new CliUsageError(`unexpected argument "${extra[0]}"`, `strata ${command} --help`);
  }
  return parsed;
}
