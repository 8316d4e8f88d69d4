import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { type DependencyContainer, container as globalContainer } from 'tsyringe';
import {
  ModuleImportError,
  ModuleNameConflictError,
  ModuleNoBackendError,
  ModuleRegisterError,
  ModulesInvalidError,
  StrataError,
} from '../errors.js';
import { moduleLogger } from '../node/logger.js';
import type { BackupBackend } from '../provider/backend.js';
import type { BackupModule, ModuleLogger } from '../provider/module-definition.js';
import { BACKUP_BACKEND, MODULE_CONFIG, MODULE_LOGGER } from '../provider/tokens.js';
import { parseEnableModules } from './enable-modules.js';
import { type Environment, type ModuleConfig, readModuleConfig } from './read-config.js';
import { type LoadedModule, ModuleRegistry } from './registry.js';
import { type ResolvedPackage, resolveModuleEntry } from './resolve.js';
import { assertSharedSingletons } from './single-copy.js';
import { validateModule } from './validate.js';

/** Options of {@link loadModules}. */
export interface LoadModulesOptions {
  /** The ENABLE_MODULES value; defaults to `env.ENABLE_MODULES`. */
  readonly enableModules?: string | undefined;
  /** Where module configuration is read from; defaults to `process.env`. */
  readonly env?: Environment | undefined;
  /** The application's directory, where module packages are resolved from; defaults to `process.cwd()`. */
  readonly appDir?: string | undefined;
  /** The container modules get child containers of; defaults to a child of tsyringe's global container. */
  readonly container?: DependencyContainer | undefined;
  /**
   * Where modules log; defaults to nowhere. Each module logs through a logger of its own that tags
   * lines with its name and keeps its secrets out of messages; a pino logger (the node's) also
   * redacts the module's secret variables from fields, by name.
   */
  readonly logger?: ModuleLogger | undefined;
}

interface Candidate {
  readonly resolved: ResolvedPackage;
  readonly module: BackupModule;
  readonly config: ModuleConfig;
  readonly configProblems: readonly StrataError[];
}

const silent: ModuleLogger = { debug() {}, info() {}, warn() {}, error() {} };

function asProblem(error: unknown, wrap: (reason: string) => StrataError): StrataError {
  if (error instanceof StrataError) return error;
  return wrap(error instanceof Error ? error.message : String(error)).withCause(error);
}

/** True when printing `error` as an inspector or logger would (fields, causes, stacks) shows a secret. */
function quotesSecret(error: unknown, redact: (text: string) => string): boolean {
  const printed = inspect(error, { depth: 8 });
  return redact(printed) !== printed;
}

/**
 * What a module's own code threw, as `ModuleRegisterError` with the module's secrets redacted from
 * its message. The original is attached as the cause only when it quotes no secret anywhere.
 */
function failedToStart(module: string, error: unknown, redact: (text: string) => string): StrataError {
  const problem = new ModuleRegisterError(module, redact(error instanceof Error ? error.message : String(error)));
  return quotesSecret(error, redact) ? problem : problem.withCause(error);
}

async function importCandidate(resolved: ResolvedPackage, env: Environment): Promise<Candidate> {
  assertSharedSingletons(resolved);
  let namespace: { default?: unknown };
  try {
    namespace = (await import(pathToFileURL(resolved.file).href)) as { default?: unknown };
  } catch (error) {
    throw asProblem(error, (reason) => new ModuleImportError(resolved.entry, resolved.file, reason));
  }
  const module = validateModule(resolved, namespace.default);
  const { config, problems } = readModuleConfig(module.name, module.config, env);
  return { resolved, module, config, configProblems: problems };
}

function nameConflicts(candidates: readonly Candidate[]): StrataError[] {
  const owners = new Map<string, Candidate>();
  const problems: StrataError[] = [];
  const describe = (c: Candidate) => `"${c.module.name}" (${c.resolved.packageName})`;
  for (const candidate of candidates) {
    for (const name of [candidate.module.name, ...(candidate.module.altNames ?? [])]) {
      const owner = owners.get(name);
      if (owner === undefined) owners.set(name, candidate);
      else if (owner !== candidate)
        problems.push(new ModuleNameConflictError(name, describe(owner), describe(candidate)));
    }
  }
  return problems;
}

async function register(
  candidate: Candidate,
  parent: DependencyContainer,
  logger: ModuleLogger,
): Promise<LoadedModule> {
  const { module, resolved, config } = candidate;
  const child = parent.createChildContainer();
  const log = moduleLogger(logger, module.name, module.config, config.redact);
  child.register(MODULE_CONFIG, { useValue: config.values });
  child.register(MODULE_LOGGER, { useValue: log });
  try {
    await module.register({ container: child, config: config.values as never, logger: log });
  } catch (error) {
    throw failedToStart(module.name, error, config.redact);
  }
  if (!child.isRegistered(BACKUP_BACKEND, false)) throw new ModuleNoBackendError(module.name);
  let backend: BackupBackend;
  let meta: Record<string, unknown>;
  try {
    backend = child.resolve<BackupBackend>(BACKUP_BACKEND);
    // Secrets as ***: what meta() returns is public (GET /v1/meta), so it never sees one.
    meta = module.meta?.(config.redacted as never) ?? {};
  } catch (error) {
    const clean = error instanceof StrataError && !quotesSecret(error, config.redact);
    throw clean ? error : failedToStart(module.name, error, config.redact);
  }
  log.info({ package: resolved.packageName, version: resolved.version, config: config.redacted }, 'module loaded');
  return {
    name: module.name,
    altNames: module.altNames ?? [],
    apiVersion: module.apiVersion,
    entry: resolved.entry,
    packageName: resolved.packageName,
    version: resolved.version,
    directory: resolved.directory,
    capabilities: module.capabilities,
    config: config.entries,
    meta,
    backend,
  };
}

/**
 * Turns ENABLE_MODULES into working backup backends: resolves each entry from the application's
 * directory, imports and validates it, reads its configuration, then lets it register its backend in
 * a child container of its own.
 *
 * Every problem of every module (not found, not a module, wrong name or API version, duplicate
 * tsyringe, missing or invalid variables, name conflicts) is collected and thrown as one
 * `ModulesInvalidError`, before any module starts. An entry that resolves to a package already
 * loaded under another spelling is loaded once.
 */
export async function loadModules(options: LoadModulesOptions = {}): Promise<ModuleRegistry> {
  const env = options.env ?? process.env;
  const enableModules = options.enableModules ?? env.ENABLE_MODULES ?? '';
  const appDir = options.appDir ?? process.cwd();
  const problems: StrataError[] = [];
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const entry of parseEnableModules(enableModules)) {
    try {
      const resolved = resolveModuleEntry(entry, appDir);
      if (seen.has(resolved.directory)) continue;
      seen.add(resolved.directory);
      const candidate = await importCandidate(resolved, env);
      candidates.push(candidate);
      problems.push(...candidate.configProblems);
    } catch (error) {
      problems.push(asProblem(error, (reason) => new ModuleImportError(entry, entry, reason)));
    }
  }
  problems.push(...nameConflicts(candidates));
  if (problems.length > 0) throw new ModulesInvalidError(enableModules, problems);

  const parent = options.container ?? globalContainer.createChildContainer();
  const logger = options.logger ?? silent;
  const settled = await Promise.allSettled(candidates.map((candidate) => register(candidate, parent, logger)));
  const loaded = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failures = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as StrataError] : []));
  if (failures.length > 0) {
    await new ModuleRegistry(loaded).close();
    throw new ModulesInvalidError(enableModules, failures);
  }
  return new ModuleRegistry(loaded);
}
