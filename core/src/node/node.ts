import type { FastifyInstance } from 'fastify';
import { type DependencyContainer, container as globalContainer } from 'tsyringe';
import { assertRootOutsideDataPath, BackupScheduler } from '../backup/index.js';
import { Database } from '../db/index.js';
import { buildServer } from '../http/server.js';
import { loadModules } from '../modules/load.js';
import type { Environment } from '../modules/read-config.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { registerDefaultStore, STORE_FACTORY, type StoreFactory } from '../store/index.js';
import { CORE_VERSION } from '../version.js';
import { type NodeConfig, readNodeConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';

/** How to start a node. Everything is optional: the defaults are `strata serve`'s. */
export interface StartOptions {
  /** Environment variables; defaults to `process.env`. */
  readonly env?: Environment;
  /** Where module packages and relative paths are resolved from; defaults to the working directory. */
  readonly appDir?: string;
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** Port to listen on; default 8080. 0 picks a free port (see `url`). */
  readonly port?: number;
  /** Logger; defaults to JSON lines on stdout at LOG_LEVEL. */
  readonly logger?: Logger;
  /**
   * The DI container the node's container is a child of. Register your own implementation of the store
   * contract under STORE_FACTORY in it to replace the LSM store.
   */
  readonly container?: DependencyContainer;
}

/**
 * A running Strata node: configuration, modules, classes and objects over the store, and the HTTP
 * API. The composition root: everything else receives what it needs from here.
 */
export class StrataNode {
  readonly config: NodeConfig;
  readonly logger: Logger;
  readonly modules: ModuleRegistry;
  readonly db: Database;
  readonly backups: BackupScheduler;
  /** The URL the node answers on, with the port actually bound. */
  readonly url: string;
  readonly #server: FastifyInstance;
  readonly #stopAccepting: () => void;
  #stopping: Promise<void> | undefined;

  private constructor(parts: {
    config: NodeConfig;
    logger: Logger;
    modules: ModuleRegistry;
    db: Database;
    backups: BackupScheduler;
    server: FastifyInstance;
    url: string;
    stopAccepting: () => void;
  }) {
    this.config = parts.config;
    this.logger = parts.logger;
    this.modules = parts.modules;
    this.db = parts.db;
    this.backups = parts.backups;
    this.#server = parts.server;
    this.url = parts.url;
    this.#stopAccepting = parts.stopAccepting;
  }

  /**
   * Starts a node: reads the configuration, loads ENABLE_MODULES, opens the data path (refused if
   * another node has it) and listens.
   * @throws NodeConfigInvalidError, ModulesInvalidError, DataPathLockedError, or the listen error.
   */
  static async start(options: StartOptions = {}): Promise<StrataNode> {
    const env = options.env ?? process.env;
    const appDir = options.appDir ?? process.cwd();
    const config = readNodeConfig(env, appDir);
    const logger = options.logger ?? createLogger(config.logLevel);
    const container = (options.container ?? globalContainer).createChildContainer();
    registerDefaultStore(container);
    const modules = await loadModules({ env, appDir, container, logger });
    let db: Database | undefined;
    try {
      // Before the data path is opened: opening moves directories it does not know aside.
      for (const module of modules.modules) {
        if (module.capabilities.pathScope === 'directory') assertRootOutsideDataPath(module.backend, config.dataPath);
      }
      db = await Database.open({
        dataPath: config.dataPath,
        nodeName: config.hostname,
        storeFactory: container.resolve<StoreFactory>(STORE_FACTORY),
        warn: (fields, message) => logger.warn(fields, message),
      });
      const backups = new BackupScheduler({
        db,
        modules,
        nodeName: config.hostname,
        dataPath: config.dataPath,
        serverVersion: CORE_VERSION,
        logger,
        chunkTargetBytes: config.chunkTargetBytes,
      });
      await backups.recover();
      let url = '';
      let accepting = true;
      const server = await buildServer({
        logger,
        auth: { keys: config.apiKeys, anonymousAccess: config.anonymousAccess },
        context: { db, modules, backups, hostname: () => url, ready: () => accepting },
      });
      const host = options.host ?? '127.0.0.1';
      await server.listen({ host, port: options.port ?? 8080 });
      const address = server.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      const node = new StrataNode({
        config,
        logger,
        modules,
        db,
        backups,
        server,
        url,
        stopAccepting: () => {
          accepting = false;
        },
      });
      logger.info(
        { url, dataPath: config.dataPath, node: config.hostname, modules: modules.modules.map((m) => m.name) },
        `Strata node listening on ${url}`,
      );
      return node;
    } catch (error) {
      await db?.close();
      await modules.close();
      throw error;
    }
  }

  /**
   * Stops gracefully: readiness fails, no new connections are accepted, requests in flight finish,
   * every store is flushed and closed, modules are closed. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.logger.info({ url: this.url }, 'Strata node stopping');
      this.#stopAccepting();
      await this.#server.close();
      await this.backups.close();
      await this.db.close();
      await this.modules.close();
      this.logger.info({}, 'Strata node stopped');
    })();
    return this.#stopping;
  }
}
