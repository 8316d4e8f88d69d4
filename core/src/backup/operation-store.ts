import type { BackendScope } from '../provider/backend.js';
import type { CompressionLevel } from './chunk-codec.js';
import type { BackupStatus } from './descriptors.js';

/**
 * The durable state of backups and restores: what the coordinator records of an operation before
 * anything of it is visible in a provider, and keeps until the operation's outcome is recorded there.
 * Start-up recovery reads it, so a crash at any point ends the operation FAILED (or CANCELED) with a
 * reason rather than leaving it STARTED. One node keeps it in a file (file-operation-store.ts); a
 * cluster keeps it where every node can read it.
 */

/** A restore's class and the shards it attaches: present in the schema, the attach committed. */
export interface Attachment {
  readonly class: string;
  readonly shards: readonly string[];
  /** The node the shards are restored on (a cluster's participant; absent on a single node). */
  readonly node?: string;
}

/** One operation as recorded. */
export interface OperationState {
  readonly kind: 'backup' | 'restore';
  readonly id: string;
  /** The module that runs it (`backup-filesystem`). */
  readonly backend: string;
  /** Every name the module answers to, so its status is answered while the module is not enabled. */
  readonly backendNames: readonly string[];
  readonly scope: BackendScope;
  /** The backup's home, as replies give `path`. */
  readonly home: string;
  readonly startedAt: string;
  readonly classes: readonly string[];
  /** The nodes taking part. */
  readonly nodes: readonly string[];
  /** A backup's classes on each node taking part, when they are not all `classes` (a cluster's). */
  readonly nodeClasses?: Readonly<Record<string, readonly string[]>>;
  readonly compression: CompressionLevel;
  /** A restore's attachments, recorded once its participants prepared. */
  readonly attaches?: readonly Attachment[];
  /** The latest status; a finished one is an outcome not yet recorded in the provider. */
  readonly status: BackupStatus;
  readonly error: string;
  readonly completedAt: string;
  readonly preCompressionSizeBytes: number;
  /**
   * The outcome its coordinator decided and is writing to the provider, while `status` still says
   * the phase the provider has: what every node answers until the provider has the outcome too. A
   * crash from then on settles the operation with it ({@link settledOf}).
   */
  readonly outcome?: Pick<OperationState, 'status' | 'error' | 'completedAt'>;
  /** Each node's part of `preCompressionSizeBytes`, as its participant reported it. */
  readonly nodeBytes?: Readonly<Record<string, number>>;
  /**
   * Its participants were told to start (or about to be): a coordinator that adopts it follows them
   * to the end; one not committed is ended FAILED, its participants aborted.
   */
  readonly committed?: boolean;
  /** A user asked to cancel it: an interrupted operation then ends CANCELED. */
  readonly cancelRequested?: boolean;
  /** Its provider still holds what an interrupted run left there (cleaned once its module is enabled). */
  readonly cleanupPending?: boolean;
}

/** Where operation states are kept. Each call is durable once it resolves. */
export interface OperationStore {
  /** Every recorded operation: the running one and those whose outcome the provider lacks. */
  list(): Promise<readonly OperationState[]>;
  /** Records `state`, replacing the state of the same operation ({@link operationKey}). */
  put(state: OperationState): Promise<void>;
  /** Forgets an operation, once its outcome is recorded in its provider. */
  remove(state: OperationState): Promise<void>;
}

/** One operation as a store shared by a cluster lists it. */
export interface ListedOperation {
  readonly state: OperationState;
  /** The node whose claim holds it; when unclaimed, the node that wrote it last (dead, or its lease lapsed). */
  readonly coordinator: string;
  /** Its claim exists, so its coordinator's lease was alive when listed; false: an orphan, to adopt. */
  readonly claimed: boolean;
  /** The record's revision: {@link SharedOperationStore.adopt} of this listing refuses a record changed since. */
  readonly revision: string;
}

/**
 * The operation store of a cluster: every node's operations, each held by its coordinator's claim,
 * with every write fenced on it (OperationFencedError once another node holds it, or the lease
 * lapsed). An operation whose coordinator died is an orphan, for another node to adopt.
 */
export interface SharedOperationStore extends OperationStore {
  /** Every operation, oldest first, with its coordinator and whether its claim is alive. */
  snapshot(): Promise<{ readonly operations: readonly ListedOperation[] }>;
  /** Claims an orphan for this node; true when this node holds it now, false when another won it. */
  adopt(operation: ListedOperation): Promise<boolean>;
  /** Calls `listener` with the orphans as they appear (and again while any are left); returns the stop. */
  watchOrphans(listener: (orphans: readonly ListedOperation[]) => void): () => void;
}

/** Why an operation ended other than by its participants' outcome: the `error` it records. */
export const endedBecause = {
  canceled: (kind: OperationState['kind']) => `${kind} canceled by user`,
  stopped: (kind: OperationState['kind']) => `node stopped during ${kind}`,
  restarted: (kind: OperationState['kind']) => `node restarted during ${kind}`,
  /** Its coordinator died (or stalled past its lease) before it told its participants to start. */
  uncommitted: (kind: OperationState['kind'], coordinator: string) =>
    `coordinator ${coordinator} stopped before the ${kind} started`,
};

/** `state` with the outcome its coordinator decided ({@link OperationState.outcome}), if it decided one. */
export function settledOf(state: OperationState): OperationState {
  if (state.outcome === undefined) return state;
  const { outcome, ...rest } = state;
  return { ...rest, ...outcome };
}

/** What identifies an operation: its kind, module, id and location. */
export function operationKey(state: Pick<OperationState, 'kind' | 'backend' | 'id' | 'scope'>): string {
  return JSON.stringify([state.kind, state.backend, state.id, state.scope.bucket ?? '', state.scope.path ?? '']);
}
