/**
 * The calls one node makes to another over the internal API (CLUSTER_DATA_BIND_PORT): each a POST of
 * JSON to `/cluster/v1/<call>`, answered 200 with `{"result": ...}` or with the error's status and
 * `{"error": SerializedError}`, revived by code on the caller's side. Plain JSON both ways, so the
 * node that serves a call needs nothing of the one that makes it.
 */
import type { OperationState } from '../backup/operation-store.js';
import type {
  OperationRef,
  ParticipantEvent,
  ParticipantStatus,
  PrepareBackup,
  Prepared,
  PrepareRestore,
} from '../backup/participant.js';
import type { ObjectInput, ShardStats, StoredObject } from '../db/index.js';
import type { SerializedError } from '../errors.js';

/** One object's outcome in a batch, as it crosses the wire. */
export type WireBatchResult = { readonly object: StoredObject } | { readonly error: SerializedError };

/** Every call: its arguments and its result. */
export interface PeerCalls {
  /** The object from the node's own shard; null when it (or its class) does not exist. */
  getObject: { args: { className: string; id: string }; result: StoredObject | null };
  /** Creates the object (its id chosen by the caller) in the node's own shard. */
  createObject: { args: { input: ObjectInput }; result: StoredObject };
  updateObject: {
    args: { className: string; id: string; input: ObjectInput; mode: 'replace' | 'merge' };
    result: StoredObject;
  };
  deleteObject: { args: { className: string; id: string }; result: boolean };
  /** Writes objects whose shards the node owns; results in the order of `inputs`. */
  batchObjects: { args: { inputs: ObjectInput[] }; result: WireBatchResult[] };
  /** The first `limit` objects of the class on the node's own shards, in id order, after `after` (exclusive). */
  listObjects: { args: { className: string; after?: string; limit: number }; result: StoredObject[] };
  /** The node's own shards (of one class, or all) with their object counts. */
  shardStats: { args: { className?: string }; result: ShardStats[] };

  // The node's backup participant (backup/participant.ts), for a coordinator on another node.

  /** Checks and holds the operation ready on the node; throws what the request answers with. */
  participantPrepare: { args: { request: PrepareBackup | PrepareRestore }; result: Prepared };
  /** Starts the prepared operation and answers at once; the node reports through participantEvents. */
  participantCommit: { args: { operation: OperationRef }; result: null };
  /** The operation's phase and progress; null for one the node does not hold. */
  participantStatus: { args: { operation: OperationRef }; result: ParticipantStatus | null };
  /** Stops the operation (it ends with `done` ABORTED); does nothing for one the node does not hold or that is done. */
  participantAbort: { args: { operation: OperationRef; reason: string }; result: null };
  /**
   * A long poll of the operation's events: those from index `from` (0: the first), answered as soon as
   * there is one, or after `waitMs` (at most {@link MAX_EVENTS_WAIT_MS}) with none. `next` is the index
   * to poll from next. After `done` there are no more. Throws ParticipantOperationUnknownError for an
   * operation the node does not hold.
   */
  participantEvents: {
    args: { operation: OperationRef; from: number; waitMs: number };
    result: { events: ParticipantEvent[]; next: number };
  };

  // The node's backup coordinator, for a cancel another node received.

  /**
   * Cancels the operation if this node coordinates it; answers once it is settled, with its state,
   * or null when it runs elsewhere (or not at all).
   */
  coordinatorCancel: { args: { operation: OperationRef }; result: OperationState | null };
}

/**
 * The longest a participantEvents poll waits for an event before it answers none: long enough that an
 * operation in one phase for hours costs a call per 10 s, short enough that a poll never looks like a
 * node that stopped answering (its call timeout is this plus a single call's).
 */
export const MAX_EVENTS_WAIT_MS = 10_000;

/** The name of a call. */
export type PeerCallName = keyof PeerCalls;

/**
 * Serves the calls on one node: what the internal API's routes hand each call to. `signal` aborts when
 * the caller goes away or the internal API closes, so a call that waits (participantEvents) answers
 * early; a call made on this node directly (node-calls.ts) has none.
 */
export type PeerHandlers = {
  readonly [K in PeerCallName]: (args: PeerCalls[K]['args'], signal?: AbortSignal) => Promise<PeerCalls[K]['result']>;
};

/** The path of a call on the internal API. */
export const peerCallPath = (call: PeerCallName): string => `/cluster/v1/${call}`;
