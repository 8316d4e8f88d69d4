/**
 * Strata's key layout in etcd, in one place: nothing else builds or parses these keys. Everything
 * lives under one prefix, so one etcd can be inspected (`etcdctl get --prefix strata/`) or shared
 * with other applications.
 *
 *   strata/cluster              the cluster id: a random UUID, created once by the first node
 *   strata/members/<node>       a live node: its member record (JSON), attached to the node's lease
 *   strata/nodes/<node>         every node that ever joined: its last member record (JSON), no lease
 *   strata/classes/<lowercase>  a class record (JSON), keyed by its name lower-cased, because class
 *                               names are unique ignoring case
 *   strata/operations/records/<hash>
 *                               a backup or restore: its state and its last coordinator (JSON), no
 *                               lease, so it outlives a coordinator that dies
 *   strata/operations/claims/<hash>
 *                               the node coordinating that operation (JSON), attached to its lease
 *
 * An operation's <hash> is the SHA-256 (hex) of its identity (operationKey() of backup/operation-store.ts:
 * kind, module, id, bucket and path), because a backup id or a path may hold "/" or any character.
 *
 * Node names follow CLUSTER_HOSTNAME's rule (db/names.ts) and class names Weaviate's, so neither
 * holds a `/`; the functions below still refuse one, as a key must never climb into another prefix.
 */

import { createHash } from 'node:crypto';

/** The prefix of every key Strata writes. */
export const ROOT = 'strata/';
/** The cluster id. */
export const CLUSTER_KEY = `${ROOT}cluster`;
/** Live members, one leased key each. */
export const MEMBERS_PREFIX = `${ROOT}members/`;
/** Every node that ever joined, one permanent key each. */
export const NODES_PREFIX = `${ROOT}nodes/`;
/** Class records. */
export const CLASSES_PREFIX = `${ROOT}classes/`;

/** Backups and restores: their records and claims. */
export const OPERATIONS_PREFIX = `${ROOT}operations/`;
/** Operation records, one permanent key each. */
export const OPERATION_RECORDS_PREFIX = `${OPERATIONS_PREFIX}records/`;
/** Operation claims, one key each attached to the coordinating node's lease. */
export const OPERATION_CLAIMS_PREFIX = `${OPERATIONS_PREFIX}claims/`;

/** `name` as one key segment; a TypeError (a programmer mistake: names are checked long before). */
function segment(name: string, what: string): string {
  if (name === '' || name.includes('/')) throw new TypeError(`a ${what} name for an etcd key is empty or holds "/"`);
  return name;
}

/** The leased key of a live member. */
export const memberKey = (node: string): string => MEMBERS_PREFIX + segment(node, 'node');
/** The permanent key of a node that joined once. */
export const nodeKey = (node: string): string => NODES_PREFIX + segment(node, 'node');
/** The key of a class, whatever the case of the name it is asked with. */
export const classKey = (className: string): string => CLASSES_PREFIX + segment(className, 'class').toLowerCase();

/**
 * The name a key under `prefix` stands for (a node name, or a lower-cased class name); undefined for
 * a key outside the prefix or one that is not a single segment (written by something else).
 */
export function nameOf(prefix: string, key: string | Buffer): string | undefined {
  const text = typeof key === 'string' ? key : key.toString('utf8');
  if (!text.startsWith(prefix)) return undefined;
  const name = text.slice(prefix.length);
  return name === '' || name.includes('/') ? undefined : name;
}

/** The path-safe name of an operation in its keys: the SHA-256 (hex) of its identity (operationKey()). */
export function operationHash(identity: string): string {
  return createHash('sha256').update(identity, 'utf8').digest('hex');
}

const HASH = /^[0-9a-f]{64}$/;

/** `hash` as a key segment; a TypeError for anything but {@link operationHash}'s output (an identity passed by mistake). */
function hashSegment(hash: string): string {
  if (!HASH.test(hash)) throw new TypeError('an operation key takes operationHash(identity), not the identity');
  return hash;
}

/** The permanent key of an operation's record. */
export const operationRecordKey = (hash: string): string => OPERATION_RECORDS_PREFIX + hashSegment(hash);
/** The leased key of an operation's claim. */
export const operationClaimKey = (hash: string): string => OPERATION_CLAIMS_PREFIX + hashSegment(hash);

/**
 * The operation hash a record or claim key under `prefix` stands for; undefined for a key outside it or
 * one that is no hash (written by something else).
 */
export function operationHashOf(prefix: string, key: string | Buffer): string | undefined {
  const name = nameOf(prefix, key);
  return name !== undefined && HASH.test(name) ? name : undefined;
}
