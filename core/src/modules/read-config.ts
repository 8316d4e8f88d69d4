import { inspect } from 'node:util';
import { ModuleConfigInvalidError, ModuleConfigMissingError, type StrataError } from '../errors.js';
import type { ConfigSpec, EnvVarSpec } from '../provider/config.js';

/** What `strata modules` shows for one variable. Never holds a secret's value. */
export interface ConfigEntry {
  /** The name the module's code reads the value by. */
  readonly key: string;
  /** The variable the module declares. */
  readonly variable: string;
  /** Where the value came from. */
  readonly source: 'environment' | 'default' | 'unset';
  /** The variable that supplied the value (the declared one or a fallback), when set. */
  readonly from: string | undefined;
  /** The value for display: `***` for a secret, `''` when unset. */
  readonly shown: string;
  readonly secret: boolean;
  readonly required: boolean;
  readonly description: string;
}

/** A module's configuration, read and validated. */
export interface ModuleConfig {
  /**
   * The values the module receives. Frozen; serialising or inspecting it (a log line, `console.log`)
   * shows secrets as `***`.
   */
  readonly values: Readonly<Record<string, unknown>>;
  readonly entries: readonly ConfigEntry[];
}

const SECRET_MASK = '***';

/** Environment variables, as `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

function lookup(env: Environment, spec: EnvVarSpec<unknown>): { from: string; raw: string } | undefined {
  for (const name of [spec.name, ...(spec.fallbacks ?? [])]) {
    const raw = env[name];
    if (raw !== undefined && raw.trim() !== '') return { from: name, raw };
  }
  return undefined;
}

function redact(text: string, secret: string): string {
  return secret === '' ? text : text.replaceAll(secret, SECRET_MASK);
}

function redactingFreeze(values: Record<string, unknown>, entries: readonly ConfigEntry[]): Record<string, unknown> {
  const redacted = Object.fromEntries(
    entries.map((entry) => [
      entry.key,
      entry.secret && values[entry.key] !== undefined ? SECRET_MASK : values[entry.key],
    ]),
  );
  Object.defineProperty(values, 'toJSON', { value: () => redacted });
  Object.defineProperty(values, inspect.custom, { value: () => redacted });
  return Object.freeze(values);
}

/**
 * Reads every variable a module declares from `env`. Collects every problem (a missing required
 * variable, a value its parser refuses) instead of stopping at the first; a secret's value never
 * appears in a problem's message.
 */
export function readModuleConfig(
  moduleName: string,
  spec: ConfigSpec,
  env: Environment,
): { config: ModuleConfig; problems: StrataError[] } {
  const values: Record<string, unknown> = {};
  const entries: ConfigEntry[] = [];
  const problems: StrataError[] = [];
  for (const [key, variable] of Object.entries(spec)) {
    const secret = variable.secret === true;
    const required = variable.required === true;
    const found = lookup(env, variable);
    const base = { key, variable: variable.name, secret, required, description: variable.description };
    if (found === undefined) {
      if (required && variable.default === undefined) {
        problems.push(
          new ModuleConfigMissingError(moduleName, variable.name, variable.fallbacks ?? [], variable.description),
        );
      }
      values[key] = variable.default;
      const source = variable.default === undefined ? 'unset' : 'default';
      const shown = variable.default === undefined ? '' : secret ? SECRET_MASK : String(variable.default);
      entries.push({ ...base, source, from: undefined, shown });
      continue;
    }
    const shown = secret ? SECRET_MASK : found.raw;
    try {
      values[key] = variable.parse === undefined ? found.raw : variable.parse(found.raw);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const problem = secret ? redact(reason, found.raw) : reason;
      problems.push(new ModuleConfigInvalidError(moduleName, found.from, JSON.stringify(shown), problem));
    }
    entries.push({ ...base, source: 'environment', from: found.from, shown });
  }
  return { config: { values: redactingFreeze(values, entries), entries }, problems };
}
