import type { BackendScope } from '../provider/backend.js';
import type { CompressionLevel } from './chunk-codec.js';
import type { Attachment } from './operation-store.js';
import type { Progress } from './progress.js';

/**
 * The contract between a coordinator and the nodes taking part in its operation. Every argument and
 * result is plain JSON and every error a typed Strata error (errors.ts serializes them by code), so a
 * participant may be in the coordinator's process (local-participant.ts) or on another node.
 *
 * An operation goes `prepare` -> `commit` -> events until `done`; `abort` may come at any point.
 *
 * - `prepare` checks what only the participant can (its node descriptor, its classes, its disk) and
 *   holds the operation ready. It writes nothing in the provider. It throws the error the request
 *   answers with. A prepared operation that is never committed is dropped by `abort`.
 * - `commit` starts the work and returns at once. From then on the participant reports through
 *   `events`; it never calls the coordinator.
 * - `events` yields every event of the operation from its first, ending with one `done`; a coordinator
 *   that subscribes late (or again) misses nothing.
 * - `status` answers the operation's phase and progress while it runs; undefined for one it does not hold.
 * - `abort` stops the operation; it ends with `done` `ABORTED`. It throws BackupStateError when the
 *   operation can no longer stop (a restore attaching its classes), and resolves (doing nothing) for
 *   one the participant does not hold or that is done.
 */

/** Which operation a call is about. */
export interface OperationRef {
  readonly kind: 'backup' | 'restore';
  readonly id: string;
  /** The module that moves the bytes; every node has it enabled under this name. */
  readonly backend: string;
  readonly scope: BackendScope;
}

export interface PrepareBackup extends OperationRef {
  readonly kind: 'backup';
  /** The classes to back up (those of them this node holds shards of). */
  readonly classes: readonly string[];
  readonly compression: CompressionLevel;
  /** Chunks moved at a time. */
  readonly concurrency: number;
  readonly startedAt: string;
}

export interface PrepareRestore extends OperationRef {
  readonly kind: 'restore';
  /** The node of the backup whose shards this participant restores. */
  readonly backupNode: string;
  readonly include?: readonly string[] | undefined;
  readonly exclude?: readonly string[] | undefined;
  readonly concurrency: number;
}

/** What a participant prepared. */
export interface Prepared {
  /** The classes it will back up or restore. */
  readonly classes: readonly string[];
  /** A restore's classes and shards, as they will be attached. */
  readonly attaches?: readonly Attachment[];
}

/** The phases a participant moves through before it is done. */
export type ParticipantPhase = 'STARTED' | 'TRANSFERRING' | 'TRANSFERRED' | 'FINALIZING';

/** What a participant reports. `bytes` counts the files it moves, before compression. */
export type ParticipantEvent =
  | { readonly type: 'phase'; readonly phase: ParticipantPhase; readonly bytes: number }
  | {
      readonly type: 'done';
      readonly outcome: 'SUCCESS' | 'FAILED' | 'ABORTED';
      /** Why it failed or was aborted (the abort's reason); empty on success. */
      readonly error: string;
      readonly bytes: number;
    };

export interface ParticipantStatus {
  readonly phase: ParticipantPhase | 'DONE';
  readonly progress: Progress;
}

export interface Participant {
  /** The node it runs on. */
  readonly node: string;
  prepare(request: PrepareBackup | PrepareRestore): Promise<Prepared>;
  commit(operation: OperationRef): Promise<void>;
  events(operation: OperationRef): AsyncIterable<ParticipantEvent>;
  status(operation: OperationRef): Promise<ParticipantStatus | undefined>;
  abort(operation: OperationRef, reason: string): Promise<void>;
}
