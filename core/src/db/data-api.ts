/**
 * What the REST API serves, whoever holds the data: one node's {@link Database}, or a cluster's router
 * that sends each request to the nodes owning the shards it needs. Both answer the same way.
 */
import type { Database } from './database.js';
import type { ShardStats } from './shard-stats.js';

/** The classes and objects the REST API reads and writes. */
export type DataApi = Pick<
  Database,
  | 'classes'
  | 'getClass'
  | 'createClass'
  | 'deleteClass'
  | 'createObject'
  | 'updateObject'
  | 'getObject'
  | 'deleteObject'
  | 'listObjects'
  | 'batchObjects'
>;

/** A node as `GET /v1/nodes` reports it: Weaviate's three states, and its shards when it answered. */
export interface NodeStatus {
  readonly name: string;
  /** HEALTHY: a member that answered; UNHEALTHY: a member that did not; UNAVAILABLE: not a member now. */
  readonly status: 'HEALTHY' | 'UNHEALTHY' | 'UNAVAILABLE';
  readonly shards: readonly ShardStats[];
}
