import { randomBytes } from 'node:crypto';
import type { BackendCapabilities, BackupBackend, ModuleLogger } from '@strata/core';
import { type Environment, type LoadedModule, loadModules } from '@strata/core/modules';
import type { DependencyContainer } from 'tsyringe';
import { watchedBackend } from './deadline.js';

/** What the suite runs against: a module, loaded the way `ENABLE_MODULES` loads it. */
export interface ConformanceOptions {
  /**
   * The module, as an `ENABLE_MODULES` entry: a name (`backup-s3`), a package name
   * (`@acme/strata-backup-azure`) or a path to the module's directory.
   */
  readonly module: string;
  /** Where `module` is resolved from, as a node resolves it from its application directory; default the working directory. */
  readonly appDir?: string;
  /** The module's configuration (its `BACKUP_*` variables); default `process.env`. */
  readonly env?: Environment;
  /** The container the module's container is a child of, e.g. with a fake filesystem registered for it. */
  readonly container?: DependencyContainer;
  /**
   * True when the storage keeps objects in this process's memory (memfs, an in-memory fake): the
   * bounded-memory check is then not registered, since storing the object is itself memory use.
   */
  readonly inMemory?: boolean;
  /** Whether to run the journeys through real Strata nodes (default true). */
  readonly journey?: boolean;
  /**
   * For a module that declares `capabilities.external`: the etcd that the journey through a cluster of
   * three nodes (node1, node2, node3, in this process) joins. A FRESH etcd for each run, of no other
   * cluster: the journey gives its nodes and classes fixed names. Without it, that journey is skipped,
   * and the plan says so.
   */
  readonly cluster?: ClusterOptions;
  /**
   * How long each check, and each of its clean-ups, may take, in seconds: past it the check fails,
   * naming the backend calls that did not return. Default `STRATA_CONFORMANCE_DEADLINE` from the
   * environment, else 120.
   */
  readonly deadlineSeconds?: number;
}

/** Where the journey through a cluster finds its etcd. */
export interface ClusterOptions {
  /** etcd's client URLs (`http://127.0.0.1:2379`), as `CLUSTER_ETCD_ENDPOINTS` takes them. */
  readonly etcdEndpoints: readonly string[];
}

/** A secret variable the configuration sets, and its value. */
export interface SetSecret {
  readonly variable: string;
  readonly value: string;
}

/** The module under test, loaded once for the whole suite. */
export interface Subject {
  readonly options: ConformanceOptions;
  /** The module's name, e.g. `backup-filesystem`. */
  readonly name: string;
  /** What the module declares it can do. */
  readonly capabilities: BackendCapabilities;
  /** The backend the module registered. */
  readonly backend: BackupBackend;
  /** The module's secret variables that the configuration sets, with their values. */
  readonly secrets: readonly SetSecret[];
  /** The suite's own key prefix in the configured root: `strata-conformance-<random>`. */
  readonly prefix: string;
  /** A fresh `scope.path` for one check, of the kind the module declares (`capabilities.pathScope`). */
  scopePath(label: string): string | undefined;
  /** Loads the module again, as a second node would: a backend instance of its own, logging to `logger`. */
  loadAgain(logger?: ModuleLogger): Promise<LoadedModule>;
}

/** A random name segment, so concurrent and repeated runs never collide. */
export function randomName(label = 'key'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

function load(options: ConformanceOptions, logger?: ModuleLogger): Promise<LoadedModule> {
  return loadModules({
    enableModules: options.module,
    env: options.env ?? process.env,
    appDir: options.appDir ?? process.cwd(),
    ...(options.container === undefined ? {} : { container: options.container }),
    ...(logger === undefined ? {} : { logger }),
  }).then((registry) => {
    const loaded = registry.modules[0] as LoadedModule;
    // Every call the suite makes is noted on the clock of the check making it (deadline.ts).
    return { ...loaded, backend: watchedBackend(loaded.backend) };
  });
}

/**
 * Loads the module with its configuration. Rejects with core's `ModulesInvalidError`, which lists
 * every problem (not found, not a module, missing variables), when the module cannot load.
 */
export async function loadSubject(options: ConformanceOptions): Promise<Subject> {
  const loaded = await load(options);
  const env = options.env ?? process.env;
  const secrets = loaded.config.flatMap(({ secret, from }) => {
    if (!secret || from === undefined) return [];
    // Trimmed: the value as a module would print it.
    const value = env[from]?.trim();
    return value === undefined ? [] : [{ variable: from, value }];
  });
  const prefix = randomName('strata-conformance');
  const { pathScope } = loaded.capabilities;
  return {
    options,
    name: loaded.name,
    capabilities: loaded.capabilities,
    backend: loaded.backend,
    secrets,
    prefix,
    // A key prefix, or a directory relative to the configured one: both stay inside the root.
    scopePath: (label) => (pathScope === undefined ? undefined : `${prefix}-scoped/${randomName(label)}`),
    loadAgain: (logger) => load(options, logger),
  };
}
