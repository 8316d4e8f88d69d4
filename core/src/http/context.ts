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

/**
 * The Weaviate version whose REST API Strata implements, reported by `/v1/meta` and `/v1/nodes`;
 * clients pick features by it. 1.35 is the first with zstd CompressionLevels and with ChunkSize
 * ignored, both of which Strata serves; schema defaults and messages are 1.35.23's (its latest patch
 * when this was set). The v3 client (3.12) changes nothing over REST from 1.28 to 1.35; from 1.36 it
 * turns on server-side batching, a gRPC stream Strata has not.
 */
export const WEAVIATE_API_VERSION = '1.35.23';
