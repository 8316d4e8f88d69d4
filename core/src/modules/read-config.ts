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
   * The values the module receives, secrets included: only for `register()` and `MODULE_CONFIG`.
   * Frozen; `JSON.stringify` and `util.inspect` of this object show secrets as `***`, but a copy of
   * it (a spread, pino's redaction clone) holds the real values, so core never logs it.
   */
  readonly values: Readonly<Record<string, unknown>>;
  /**
   * The same values with each secret that is set replaced by `***` (unset ones stay undefined): the
   * copy core logs and passes to `meta()`. It holds no secret, so no way of printing it shows one.
   */
  readonly redacted: Readonly<Record<string, unknown>>;
  readonly entries: readonly ConfigEntry[];
  /** `text` with every secret value (as set, trimmed, or parsed into strings) replaced by `***`. */
  redact(text: string): string;
}

/** What a secret's value is shown as, everywhere. */
export const SECRET_MASK = '***';

/** Environment variables, as `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

function lookup(env: Environment, spec: EnvVarSpec<unknown>): { from: string; raw: string } | undefined {
  for (const name of [spec.name, ...(spec.fallbacks ?? [])]) {
    const raw = env[name];
    if (raw !== undefined && raw.trim() !== '') return { from: name, raw };
  }
  return undefined;
}

/** The strings a secret may appear as in a message: as set, trimmed, and as parsed (each item of a list). */
function secretForms(raw: string, parsed: unknown): string[] {
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return [raw, raw.trim(), ...items.filter((item): item is string => typeof item === 'string')];
}

/** Replaces every form in `text`, longest first, so a secret that contains another goes whole. */
function redactor(forms: readonly string[]): (text: string) => string {
  const sorted = [...new Set(forms.filter((form) => form !== ''))].sort((a, b) => b.length - a.length);
  return (text) => sorted.reduce((result, form) => result.replaceAll(form, SECRET_MASK), text);
}

function redactingFreeze(
  values: Record<string, unknown>,
  redacted: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  // For a module author's own console.log or JSON.stringify of the object; core logs `redacted`.
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
  const forms: string[] = [];
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
      if (secret) forms.push(...secretForms('', variable.default));
      const source = variable.default === undefined ? 'unset' : 'default';
      const shown = variable.default === undefined ? '' : secret ? SECRET_MASK : String(variable.default);
      entries.push({ ...base, source, from: undefined, shown });
      continue;
    }
    const shown = secret ? SECRET_MASK : found.raw;
    try {
      values[key] = variable.parse === undefined ? found.raw : variable.parse(found.raw);
      if (secret) forms.push(...secretForms(found.raw, values[key]));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const problem = secret ? redactor(secretForms(found.raw, undefined))(reason) : reason;
      problems.push(new ModuleConfigInvalidError(moduleName, found.from, JSON.stringify(shown), problem));
    }
    entries.push({ ...base, source: 'environment', from: found.from, shown });
  }
  const redacted = Object.freeze(
    Object.fromEntries(
      entries.map(({ key, secret }) => [key, secret && values[key] !== undefined ? SECRET_MASK : values[key]]),
    ),
  );
  return {
    config: { values: redactingFreeze(values, redacted), redacted, entries, redact: redactor(forms) },
    problems,
  };
}
