import type { BackupScheduler } from '../backup/index.js';
import type { Database } from '../db/index.js';
import type { ModuleRegistry } from '../modules/registry.js';

/** What route plugins work with, passed as their options. */
export interface HttpContext {
  readonly db: Database;
  readonly modules: ModuleRegistry;
  readonly backups: BackupScheduler;
  /** The URL the node answers on, for `GET /v1/meta`. */
  hostname(): string;
  /** False once the node starts shutting down: readiness fails so load balancers stop sending traffic. */
  ready(): boolean;
}

/** The Weaviate REST API version whose behaviour Strata implements; clients pick features by it. */
export const WEAVIATE_API_VERSION = '1.28.0';
