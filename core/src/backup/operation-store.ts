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
  readonly compression: CompressionLevel;
  /** A restore's attachments, recorded once its participants prepared. */
  readonly attaches?: readonly Attachment[];
  /** The latest status; a finished one is an outcome not yet recorded in the provider. */
  readonly status: BackupStatus;
  readonly error: string;
  readonly completedAt: string;
  readonly preCompressionSizeBytes: number;
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

/** Why an operation ended other than by its participants' outcome: the `error` it records. */
export const endedBecause = {
  canceled: (kind: OperationState['kind']) => `${kind} canceled by user`,
  stopped: (kind: OperationState['kind']) => `node stopped during ${kind}`,
  restarted: (kind: OperationState['kind']) => `node restarted during ${kind}`,
};

/** What identifies an operation: its kind, module, id and location. */
export function operationKey(state: Pick<OperationState, 'kind' | 'backend' | 'id' | 'scope'>): string {
  return JSON.stringify([state.kind, state.backend, state.id, state.scope.bucket ?? '', state.scope.path ?? '']);
}
