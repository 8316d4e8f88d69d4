/**
 * @strata/core/cluster: what a Strata node keeps in etcd (membership, the schema and shard
 * placement, backups and restores) and the client it keeps it through. Strata writes no consensus
 * of its own: every decision two nodes could race for is one etcd transaction.
 *
 * @packageDocumentation
 */

export type { ListedOperation } from '../backup/operation-store.js';
// The errors this package raises, so a caller can tell them by class as well as by code.
export {
  ClusterRecordInvalidError,
  ClusterUnavailableError,
  EtcdUnreachableError,
  NodeNameLiveError,
  OperationFencedError,
} from '../errors.js';
export { Cluster, type ClusterConfig, type ClusterOptions } from './cluster.js';
export { CALL_DEADLINE_MS, connectEtcd, isUnavailable } from './etcd-client.js';
export {
  CLASSES_PREFIX,
  CLUSTER_KEY,
  classKey,
  MEMBERS_PREFIX,
  memberKey,
  NODES_PREFIX,
  nameOf,
  nodeKey,
  OPERATION_CLAIMS_PREFIX,
  OPERATION_RECORDS_PREFIX,
  OPERATIONS_PREFIX,
  operationClaimKey,
  operationHash,
  operationHashOf,
  operationRecordKey,
  ROOT,
} from './etcd-keys.js';
export {
  EtcdOperationStore,
  type EtcdOperationStoreOptions,
  type OperationSnapshot,
} from './etcd-operation-store.js';
export {
  clusterId,
  type JoinOptions,
  type Member,
  type MemberInfo,
  Membership,
  type MembershipEvents,
} from './membership.js';
export type { OperationClaimValue, OperationRecordValue } from './operation-records.js';
export { type SchemaSnapshot, SchemaStore, type SchemaStoreOptions } from './schema-store.js';
