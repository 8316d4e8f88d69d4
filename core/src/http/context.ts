import type { BackupScheduler } from '../backup/index.js';
import type { DataApi, NodeStatus } from '../db/index.js';
import type { ModuleRegistry } from '../modules/registry.js';

/** What route plugins work with, passed as their options. */
export interface HttpContext {
  /** The classes and objects served: this node's database, or the cluster's through this node. */
  readonly db: DataApi;
  /** The nodes serving them, with their shards (of one class, or all): this node alone, or the cluster's. */
  nodes(className?: string): Promise<NodeStatus[]>;
  readonly modules: ModuleRegistry;
  readonly backups: BackupScheduler;
  /** The URL the node answers on, for `GET /v1/meta`. */
  hostname(): string;
  /**
   * False once the node starts shutting down, or while a cluster node has lost etcd: readiness fails so
   * load balancers stop sending traffic.
   */
  ready(): boolean;
}

/** The Weaviate REST API version whose behaviour Strata implements; clients pick features by it. */
export const WEAVIATE_API_VERSION = '1.28.0';
