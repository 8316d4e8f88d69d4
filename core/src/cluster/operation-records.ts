/**
 * What an operation's two keys in etcd hold (etcd-keys.ts: `strata/operations/records/<hash>` and
 * `strata/operations/claims/<hash>`), and the checks a value read back must pass before a caller gets
 * it: anything under `strata/` may have been written by hand or by another version of Strata, and a
 * state missing a field would crash the recovery or status code that reads it, far from the cause.
 */
import { isBackupId } from '../backup/descriptors.js';
import { type OperationState, operationKey } from '../backup/operation-store.js';
import { CLASS_NAME } from '../db/index.js';
import { NODE_NAME, SHARD_NAME } from '../db/names.js';
import { operationHash } from './etcd-keys.js';

/** An operation's record: JSON in `strata/operations/records/<hash>`, no lease. */
export interface OperationRecordValue {
  /** The node that wrote it last: its coordinator then. */
  readonly coordinator: string;
  readonly state: OperationState;
}

/** An operation's claim: JSON in `strata/operations/claims/<hash>`, on the coordinator's lease. */
export interface OperationClaimValue {
  /** The coordinating node. */
  readonly node: string;
}

/** The hash an operation's keys are named by. */
export const hashOf = (state: Pick<OperationState, 'kind' | 'backend' | 'id' | 'scope'>): string =>
  operationHash(operationKey(state));

type Fields = { readonly [field: string]: unknown };

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isStrings = (value: unknown): boolean => Array.isArray(value) && value.every((item) => typeof item === 'string');
/** An array of strings each matching `name`: names that become provider keys and directories. */
const isNames = (value: unknown, name: RegExp): boolean =>
  isStrings(value) && (value as string[]).every((item) => name.test(item));

const STRING_FIELDS = ['id', 'backend', 'home', 'startedAt', 'status', 'error', 'completedAt', 'compression'];

/** The first problem of an operation state, or undefined. */
function stateProblem(state: Fields): string | undefined {
  if (state.kind !== 'backup' && state.kind !== 'restore') return 'state.kind is neither "backup" nor "restore"';
  for (const field of STRING_FIELDS) if (typeof state[field] !== 'string') return `state.${field} is not a string`;
  // An adopting node deletes chunks and writes descriptors under keys made of these: only names pass.
  if (!isBackupId(state.id as string)) return 'state.id is not a backup id';
  if (!isStrings(state.backendNames)) return 'state.backendNames is not an array of strings';
  if (!isNames(state.classes, CLASS_NAME)) return 'state.classes is not an array of class names';
  if (!isNames(state.nodes, NODE_NAME)) return 'state.nodes is not an array of node names';
  if (typeof state.preCompressionSizeBytes !== 'number') return 'state.preCompressionSizeBytes is not a number';
  const scope = state.scope;
  if (!isObject(scope)) return 'state.scope is not an object';
  for (const field of ['bucket', 'path']) {
    if (scope[field] !== undefined && typeof scope[field] !== 'string') return `state.scope.${field} is not a string`;
  }
  const attaches = state.attaches;
  if (attaches !== undefined) {
    const valid = (a: unknown) =>
      isObject(a) &&
      typeof a.class === 'string' &&
      CLASS_NAME.test(a.class) &&
      isNames(a.shards, SHARD_NAME) &&
      (a.node === undefined || (typeof a.node === 'string' && NODE_NAME.test(a.node)));
    if (!Array.isArray(attaches) || !attaches.every(valid)) return 'state.attaches is not a list of attachments';
  }
  const nodeClasses = state.nodeClasses;
  if (
    nodeClasses !== undefined &&
    (!isObject(nodeClasses) ||
      !Object.entries(nodeClasses).every(([node, classes]) => NODE_NAME.test(node) && isNames(classes, CLASS_NAME)))
  ) {
    return 'state.nodeClasses is not a record of class names by node name';
  }
  const outcome = state.outcome;
  if (
    outcome !== undefined &&
    (!isObject(outcome) || !['status', 'error', 'completedAt'].every((field) => typeof outcome[field] === 'string'))
  ) {
    return 'state.outcome is not an outcome (status, error, completedAt)';
  }
  const nodeBytes = state.nodeBytes;
  if (nodeBytes !== undefined && (!isObject(nodeBytes) || !Object.values(nodeBytes).every(Number.isSafeInteger))) {
    return 'state.nodeBytes is not a record of byte counts';
  }
  for (const field of ['cancelRequested', 'cleanupPending', 'committed']) {
    if (state[field] !== undefined && typeof state[field] !== 'boolean') return `state.${field} is not a boolean`;
  }
  return undefined;
}

/**
 * The first problem of a record read from the key of `hash` (undefined when the key is no operation's):
 * the shape of {@link OperationRecordValue}, and an operation whose identity hashes to its key's, so a
 * record copied to another key is not mistaken for that key's operation.
 */
export function recordProblem(hash: string | undefined) {
  return (value: Fields): string | undefined => {
    if (hash === undefined) return 'its key is not an operation hash';
    if (typeof value.coordinator !== 'string' || value.coordinator === '') return 'coordinator is not a node name';
    if (!isObject(value.state)) return 'state is not an object';
    const problem = stateProblem(value.state);
    if (problem !== undefined) return problem;
    return hashOf(value.state as unknown as OperationState) === hash ? undefined : "its operation is not its key's";
  };
}

/** The first problem of a claim's value, or undefined. */
export function claimProblem(value: Fields): string | undefined {
  return typeof value.node === 'string' && value.node !== '' ? undefined : 'node is not a node name';
}
