import type { DependencyContainer } from 'tsyringe';
import type { BackendCapabilities } from './backend.js';
import type { ConfigSpec, ConfigValues } from './config.js';

/**
 * The module API version this release of @strata/core defines. A module states the version it was
 * written for; core refuses versions it does not support, naming both. Bumped only when the contract
 * changes incompatibly, independently of @strata/core's own semver.
 */
export const MODULE_API_VERSION = 1;

/**
 * The brand core looks for on a module's default export. A `Symbol.for` key lives in the global symbol
 * registry, so the check holds even when the module and the application load different copies of
 * @strata/core (where `instanceof` would fail).
 */
export const MODULE_BRAND: unique symbol = Symbol.for('strata.backup-module') as never;

/** The logger a module receives: a subset of pino's, so a pino logger fits. */
export interface ModuleLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** What `register()` receives. */
export interface ModuleContext<C extends ConfigSpec> {
  /**
   * The module's own child container. Register services here (never in tsyringe's global container),
   * and the backend under `BACKUP_BACKEND`. Config and logger are already registered as
   * `MODULE_CONFIG` and `MODULE_LOGGER`.
   */
  readonly container: DependencyContainer;
  /**
   * The validated configuration. Secret values are real here: never log them, nor this object, nor
   * pass them to anything that logs or throws them. See docs/writing-a-provider.md.
   */
  readonly config: ConfigValues<C>;
  /**
   * Where the module logs; lines carry the module's name. Core replaces secret values in messages,
   * and fields named after a secret (its key or variable), with `***`; a secret under another name
   * is not caught.
   */
  readonly logger: ModuleLogger;
}

/** What a provider package describes about itself. See docs/writing-a-provider.md. */
export interface BackupModuleDefinition<C extends ConfigSpec = ConfigSpec> {
  /** The module's name, as users write it in ENABLE_MODULES and URLs: `backup-<provider>`. */
  readonly name: string;
  /** Other names the backend answers to in URLs and lookups, e.g. `s3` for `backup-s3`. */
  readonly altNames?: readonly string[];
  /** The module API version the module was written for: `MODULE_API_VERSION` of the core it was built with. */
  readonly apiVersion: typeof MODULE_API_VERSION;
  /** What the backend can do. */
  readonly capabilities: BackendCapabilities;
  /** The environment variables the module reads. */
  readonly config: C;
  /**
   * Non-secret settings shown in `GET /v1/meta` (Weaviate's module meta), e.g. `{ backupsPath }`.
   * Receives the configuration with each secret that is set as `***`, so a secret cannot reach it.
   */
  meta?(config: ConfigValues<C>): Record<string, unknown>;
  /** Registers the backend (and anything it needs) in `context.container`. May be async. */
  register(context: ModuleContext<C>): void | Promise<void>;
}

/** A module definition carrying core's brand: what a provider package exports as default. */
export type BackupModule<C extends ConfigSpec = ConfigSpec> = BackupModuleDefinition<C> & {
  readonly [MODULE_BRAND]: true;
};

const MODULE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function configProblem(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null) return '"config" must be an object of variable specs';
  for (const [key, spec] of Object.entries(config)) {
    const where = `config.${key}`;
    if (typeof spec !== 'object' || spec === null) return `${where} must be an object`;
    const { name, fallbacks, description, parse, secret } = spec as Record<string, unknown>;
    if (typeof name !== 'string' || !ENV_NAME.test(name)) return `${where}.name must be an environment variable name`;
    // Log redaction names a secret by its key (see node/logger.ts), and a path can name only these.
    if (secret === true && !IDENTIFIER.test(key)) {
      return `${where} is secret, so its key must be an identifier (letters, digits, "_" and "$"): logs redact it by that key`;
    }
    if (typeof description !== 'string' || description === '') return `${where}.description must be a sentence`;
    if (parse !== undefined && typeof parse !== 'function') return `${where}.parse must be a function`;
    if (fallbacks !== undefined && !(Array.isArray(fallbacks) && fallbacks.every((f) => ENV_NAME.test(f)))) {
      return `${where}.fallbacks must be an array of environment variable names`;
    }
  }
  return undefined;
}

/**
 * Why `value` is not a well-formed module definition, or undefined when it is. Core uses it to reject
 * hand-made or outdated exports with a message instead of failing later.
 */
export function moduleDefinitionProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'it is not an object';
  const def = value as Record<string, unknown>;
  if (typeof def.name !== 'string' || !MODULE_NAME.test(def.name)) {
    return '"name" must be lower-case words joined by "-", such as "backup-s3"';
  }
  if (def.altNames !== undefined) {
    const ok = Array.isArray(def.altNames) && def.altNames.every((n) => typeof n === 'string' && MODULE_NAME.test(n));
    if (!ok) return '"altNames" must be an array of names such as "s3"';
  }
  if (!Number.isInteger(def.apiVersion)) return '"apiVersion" must be an integer (MODULE_API_VERSION)';
  const capabilities = def.capabilities as Record<string, unknown> | undefined;
  if (typeof capabilities !== 'object' || capabilities === null || typeof capabilities.external !== 'boolean') {
    return '"capabilities.external" must be true or false';
  }
  if (capabilities.pathScope !== undefined && !['prefix', 'directory'].includes(capabilities.pathScope as string)) {
    return '"capabilities.pathScope" must be "prefix", "directory" or left out';
  }
  if (def.meta !== undefined && typeof def.meta !== 'function') return '"meta" must be a function';
  if (typeof def.register !== 'function') return '"register" must be a function';
  return configProblem(def.config);
}

/**
 * Declares a backup module. A provider package exports the result as its default export:
 *
 * ```ts
 * export default defineBackupModule({
 *   name: 'backup-example',
 *   altNames: ['example'],
 *   apiVersion: MODULE_API_VERSION,
 *   capabilities: { external: true },
 *   config: { bucket: { name: 'BACKUP_EXAMPLE_BUCKET', required: true, description: 'Bucket for backups.' } },
 *   register({ container, config }) {
 *     container.register(BACKUP_BACKEND, { useValue: new ExampleBackend(config.bucket) });
 *   },
 * });
 * ```
 *
 * @throws TypeError when the definition is malformed.
 */
export function defineBackupModule<const C extends ConfigSpec>(definition: BackupModuleDefinition<C>): BackupModule<C> {
  const problem = moduleDefinitionProblem(definition);
  if (problem !== undefined) throw new TypeError(`defineBackupModule: ${problem}`);
  return Object.freeze({ ...definition, [MODULE_BRAND]: true as const });
}
