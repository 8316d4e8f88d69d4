import { isAbsolute, normalize } from 'node:path';
import {
  ByteSizeTooSmallError,
  NotBooleanError,
  NotByteSizeError,
  NotIntegerError,
  NotOneOfError,
  OutOfRangeError,
  PathHasNulError,
  RelativePathError,
} from '../errors.js';

/**
 * How a module declares one environment variable it reads. Core reads every declared variable once,
 * at start-up, reports all problems of all enabled modules together, and never shows the value of a
 * `secret` one (it prints `***`).
 *
 * An empty or blank value counts as unset.
 */
export interface EnvVarSpec<T = string> {
  /** The variable's name, e.g. `BACKUP_S3_BUCKET`. */
  readonly name: string;
  /** Other names read, in order, when `name` is unset (e.g. `AWS_DEFAULT_REGION` after `AWS_REGION`). */
  readonly fallbacks?: readonly string[];
  /** One sentence for users: what the variable does. Shown in errors and `strata modules`. */
  readonly description: string;
  /** When true, start-up fails if the variable (and every fallback) is unset. */
  readonly required?: boolean;
  /** The value used when the variable is unset. */
  readonly default?: T;
  /** When true, the value is shown as `***` in logs, errors and listings. */
  readonly secret?: boolean;
  /**
   * Turns the raw string into the value the module receives. Throw `ConfigValueError` with what is
   * wrong, what was expected or what to do (without repeating the value); core adds the variable's
   * name and value. The ready-made `parsers` throw errors of their own, one code per refusal.
   */
  readonly parse?: (raw: string) => T;
}

/** A module's configuration: a name for each variable, as the module's code will read it. */
export type ConfigSpec = Readonly<Record<string, EnvVarSpec<unknown>>>;

type ParsedValue<S> = S extends { readonly parse: (raw: string) => infer T } ? T : string;
type AlwaysPresent<S> = S extends { readonly required: true }
  ? true
  : S extends { readonly default: unknown }
    ? true
    : false;

/** The values a module receives for its `ConfigSpec`: required or defaulted ones are never undefined. */
export type ConfigValues<C extends ConfigSpec> = {
  readonly [K in keyof C]: AlwaysPresent<C[K]> extends true ? ParsedValue<C[K]> : ParsedValue<C[K]> | undefined;
};

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** Ready-made parsers for `EnvVarSpec.parse`. */
export const parsers = {
  /** `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`, any case). */
  boolean(raw: string): boolean {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    throw new NotBooleanError();
  },

  /** A whole number, optionally within `[min, max]`. */
  integer(range: { readonly min?: number; readonly max?: number } = {}): (raw: string) => number {
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
    return (raw) => {
      const text = raw.trim();
      const value = Number(text);
      if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(value)) {
        throw new NotIntegerError();
      }
      if (value < min || value > max) throw new OutOfRangeError(min, max);
      return value;
    };
  },

  /** A size in bytes: a number, or one with a unit: B, KB, MB, GB (powers of 1000), KiB, MiB, GiB (of 1024). */
  byteSize(raw: string): number {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*$/i.exec(raw);
    const units: Record<string, number> = {
      b: 1,
      kb: 1e3,
      mb: 1e6,
      gb: 1e9,
      kib: 1024,
      mib: 1024 ** 2,
      gib: 1024 ** 3,
    };
    const factor = units[(match?.[2] ?? 'b').toLowerCase()];
    if (match === null || factor === undefined) throw new NotByteSizeError();
    const bytes = Math.round(Number(match[1]) * factor);
    if (bytes < 1) throw new ByteSizeTooSmallError();
    return bytes;
  },

  /** Comma-separated values, each trimmed; empty entries dropped. */
  list(raw: string): string[] {
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  },

  /** One of `values`, exactly. */
  oneOf<const T extends string>(values: readonly T[]): (raw: string) => T {
    return (raw) => {
      const value = raw.trim();
      if (!(values as readonly string[]).includes(value)) throw new NotOneOfError(values);
      return value as T;
    };
  },

  /** An absolute filesystem path, normalised (no trailing slash, no `.` or `..` segments). */
  absolutePath(raw: string): string {
    if (raw.includes('\0')) throw new PathHasNulError();
    if (!isAbsolute(raw)) {
      throw new RelativePathError();
    }
    const normalized = normalize(raw);
    return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
  },
} as const;
