/**
 * The calls one node makes to another over the internal API (CLUSTER_DATA_BIND_PORT): each a POST of
 * JSON to `/cluster/v1/<call>`, answered 200 with `{"result": ...}` or with the error's status and
 * `{"error": SerializedError}`, revived by code on the caller's side. Plain JSON both ways, so the
 * node that serves a call needs nothing of the one that makes it.
 */
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
}

/** The name of a call. */
export type PeerCallName = keyof PeerCalls;

/** Serves the calls on one node: what the internal API's routes hand each call to. */
export type PeerHandlers = {
  readonly [K in PeerCallName]: (args: PeerCalls[K]['args']) => Promise<PeerCalls[K]['result']>;
};

/** The path of a call on the internal API. */
export const peerCallPath = (call: PeerCallName): string => `/cluster/v1/${call}`;
