import { BackendNotEnabledError } from '../errors.js';
import type { BackendCapabilities, BackupBackend } from '../provider/backend.js';
import type { ConfigEntry } from './read-config.js';

/** A module that loaded, validated, configured and registered its backend. */
export interface LoadedModule {
  /** The module's name, e.g. `backup-filesystem`. */
  readonly name: string;
  /** Other names it answers to, e.g. `filesystem`. */
  readonly altNames: readonly string[];
  /** The module API version it implements. */
  readonly apiVersion: number;
  /** The ENABLE_MODULES entry that loaded it. */
  readonly entry: string;
  /** Its package's name, version and directory. */
  readonly packageName: string;
  readonly version: string;
  readonly directory: string;
  readonly capabilities: BackendCapabilities;
  /** Its configuration, for display: secrets are `***`. */
  readonly config: readonly ConfigEntry[];
  /** Its non-secret settings for `GET /v1/meta`. */
  readonly meta: Readonly<Record<string, unknown>>;
  /** The backend it registered. */
  readonly backend: BackupBackend;
}

/**
 * The enabled modules, looked up by name or alt name (`backup-s3` or `s3`), as Weaviate's module
 * provider does: the exact name first, then alt names. Immutable once built; safe to share.
 */
export class ModuleRegistry {
  readonly #modules: readonly LoadedModule[];
  readonly #byName = new Map<string, LoadedModule>();
  #closed: Promise<void> | undefined;

  constructor(modules: readonly LoadedModule[]) {
    this.#modules = modules;
    for (const module of modules) this.#byName.set(module.name, module);
    for (const module of modules) {
      for (const alt of module.altNames) if (!this.#byName.has(alt)) this.#byName.set(alt, module);
    }
  }

  /** The enabled modules, in ENABLE_MODULES order. */
  get modules(): readonly LoadedModule[] {
    return this.#modules;
  }

  /** The module answering to `name` (its name or an alt name), if enabled. */
  find(name: string): LoadedModule | undefined {
    return this.#byName.get(name);
  }

  /**
   * The backend of the module answering to `name`.
   * @throws BackendNotEnabledError with Weaviate's message when no enabled module answers to it.
   */
  backend(name: string): BackupBackend {
    const module = this.find(name);
    if (module === undefined) throw new BackendNotEnabledError(name);
    return module.backend;
  }

  /** Closes every backend (clients, sockets). Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= Promise.allSettled(this.#modules.map((module) => module.backend.close?.())).then(() => {});
    return this.#closed;
  }
}
