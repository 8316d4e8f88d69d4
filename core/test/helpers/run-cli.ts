import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `strata` bin of this package. */
export const strataBin = fileURLToPath(new URL('../../../bin/strata.js', import.meta.url));

/** What a finished `strata` process printed and how it exited. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `strata` command in a child process, with exactly `env` (plus PATH). */
export function runStrata(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  return new Promise<CliResult>((resolve) => {
    execFile(
      process.execPath,
      [strataBin, ...args],
      { cwd: options.cwd ?? process.cwd(), env: { PATH: process.env.PATH ?? '', ...options.env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
