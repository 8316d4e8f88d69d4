import type { ClassRecord } from '../db/index.js';
import type { OperationState, SharedOperationStore } from './operation-store.js';
import type { OperationRef, Participant } from './participant.js';

/**
 * What backups need of the cluster a node is in (core/src/cluster implements it; a single node has
 * none): the operation store every node reads, the participants on other nodes, the live members,
 * and the two things only the cluster can do, creating restored classes in its schema and asking
 * another node to cancel the operation it coordinates.
 */
export interface BackupCluster {
  /** Every node's operations (etcd): written fenced on this node's lease, adopted when a coordinator dies. */
  readonly store: SharedOperationStore;
  /** The names of the live members, this node included. */
  liveNodes(): readonly string[];
  /** The participant on another node, reached over the internal API. */
  participant(node: string): Participant;
  /**
   * Has `node`, the operation's coordinator, cancel it; resolves with its state once it is settled
   * there, or undefined when `node` does not run it (any more).
   */
  cancelOn(node: string, operation: OperationRef): Promise<OperationState | undefined>;
  /**
   * Creates restored classes in the cluster's schema, all in one transaction, placed as `records`
   * say; resolves once every live node applied them (the nodes holding their shards open them then).
   * @throws ClassExistsError when one exists, nothing created; a cluster error when etcd is lost.
   */
  createClasses(records: readonly ClassRecord[]): Promise<void>;
}
