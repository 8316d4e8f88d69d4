import type { FastifyInstance } from 'fastify';
import { type DependencyContainer, container as globalContainer } from 'tsyringe';
import { assertRootOutsideDataPath, BackupScheduler, LocalParticipant } from '../backup/index.js';
import { Cluster } from '../cluster/index.js';
import { Database, type NodeStatus } from '../db/index.js';
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
  /** The node's part in its cluster; undefined for a single node (no CLUSTER_ETCD_ENDPOINTS). */
  readonly cluster: Cluster | undefined;
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
    cluster: Cluster | undefined;
    server: FastifyInstance;
    url: string;
    stopAccepting: () => void;
  }) {
    this.config = parts.config;
    this.logger = parts.logger;
    this.modules = parts.modules;
    this.db = parts.db;
    this.backups = parts.backups;
    this.cluster = parts.cluster;
    this.#server = parts.server;
    this.url = parts.url;
    this.#stopAccepting = parts.stopAccepting;
  }

  /**
   * Starts a node: reads the configuration, loads ENABLE_MODULES, opens the data path (refused if
   * another node has it), joins its cluster when CLUSTER_ETCD_ENDPOINTS is set, and listens.
   * @throws NodeConfigInvalidError, ModulesInvalidError, DataPathLockedError, a cluster error
   * (EtcdUnreachableError, NodeNameLiveError, ...), or the listen error.
   */
  static async start(options: StartOptions = {}): Promise<StrataNode> {
    const env = options.env ?? process.env;
    const appDir = options.appDir ?? process.cwd();
    const config = readNodeConfig(env, appDir);
    const logger = options.logger ?? createLogger(config.logLevel);
    const container = (options.container ?? globalContainer).createChildContainer();
    registerDefaultStore(container);
    const modules = await loadModules({ env, appDir, container, logger });
    const host = options.host ?? '127.0.0.1';
    let db: Database | undefined;
    let cluster: Cluster | undefined;
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
        ownShardsOnly: config.cluster !== undefined,
      });
      const local = db;
      const participant = new LocalParticipant({
        db,
        modules,
        nodeName: config.hostname,
        dataPath: config.dataPath,
        serverVersion: CORE_VERSION,
        chunkTargetBytes: config.chunkTargetBytes,
        holdRestores: config.cluster !== undefined,
      });
      // Built once the cluster is joined (its store is etcd's); a cancel forwarded before that finds nothing.
      let backups: BackupScheduler | undefined;
      if (config.cluster !== undefined) {
        cluster = await Cluster.start({
          config: config.cluster,
          nodeName: config.hostname,
          db,
          participant,
          coordinator: { cancel: async (operation) => backups?.cancelHere(operation) },
          host,
          version: CORE_VERSION,
          logger,
        });
      }
      backups = new BackupScheduler({
        db,
        modules,
        nodeName: config.hostname,
        dataPath: config.dataPath,
        serverVersion: CORE_VERSION,
        logger,
        participant,
        cluster: cluster?.backups,
      });
      const joined = cluster;
      await backups.recover();
      let url = '';
      let accepting = true;
      const server = await buildServer({
        logger,
        auth: { keys: config.apiKeys, anonymousAccess: config.anonymousAccess },
        context: {
          db: joined?.data ?? local,
          nodes: (className) => joined?.nodeStatuses(className) ?? singleNode(local, className),
          modules,
          backups,
          hostname: () => url,
          ready: () => accepting && (joined?.healthy ?? true),
        },
      });
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
        cluster,
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
      await cluster?.stop();
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
      await this.cluster?.stop();
      await this.db.close();
      await this.modules.close();
      this.logger.info({}, 'Strata node stopped');
    })();
    return this.#stopping;
  }
}

/** `GET /v1/nodes` of a single node: this one, healthy, with its shards. */
async function singleNode(db: Database, className?: string): Promise<NodeStatus[]> {
  return [{ name: db.nodeName, status: 'HEALTHY', shards: await db.shardStats(className) }];
}
