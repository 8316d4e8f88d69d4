/**
 * The coordinator call of the internal API: a cancel that another node received for an operation
 * this node coordinates, answered by this node's backup scheduler.
 */
import type { OperationState } from '../backup/operation-store.js';
import type { OperationRef } from '../backup/participant.js';
import { operation } from './participant-handlers.js';
import type { PeerHandlers } from './peer-calls.js';

/** What answers the coordinator call: the node's scheduler (BackupScheduler.cancelHere). */
export interface CoordinatorCalls {
  cancel(operation: OperationRef): Promise<OperationState | undefined>;
}

/** The coordinator call, answered by `coordinator`. */
export function coordinatorHandlers(coordinator: CoordinatorCalls): Pick<PeerHandlers, 'coordinatorCancel'> {
  return {
    coordinatorCancel: async (args) =>
      (await coordinator.cancel(operation('coordinatorCancel', args?.operation))) ?? null,
  };
}
