import type { BackupBackend } from '../provider/backend.js';
import { compressionTypeOf } from './chunk-codec.js';
import {
  BACKUP_FORMAT_VERSION,
  type BackupStatus,
  type GlobalDescriptor,
  type OperationRecord,
  type RestoreDescriptor,
  writeJson,
} from './descriptors.js';
import { BackupHome } from './home.js';
import type { OperationState } from './operation-store.js';

/**
 * The descriptors a coordinator keeps in the provider for its operation: a backup's global descriptor
 * (`backup_config.json`) and a restore's `restore_config.json`, made from the operation's state.
 */

/** One node's part, as the global descriptor records it. */
export interface NodePart {
  readonly status: BackupStatus;
  readonly error: string;
  readonly preCompressionSizeBytes: number;
}

/** Who writes the descriptors: the coordinating node and the version it runs. */
export interface DescriptorAuthor {
  readonly node: string;
  readonly serverVersion: string;
}

/** What every descriptor records of its operation. */
function recordOf(state: OperationState): OperationRecord {
  const { id, startedAt, completedAt, status, error, preCompressionSizeBytes } = state;
  return { id, startedAt, completedAt, status, error, preCompressionSizeBytes };
}

/** The global descriptor of backup `state`; nodes not in `parts` are recorded with the operation's status. */
export function globalDescriptorOf(
  state: OperationState,
  author: DescriptorAuthor,
  parts: ReadonlyMap<string, NodePart> = new Map(),
): GlobalDescriptor {
  const whole: NodePart = {
    status: state.status,
    error: state.error,
    preCompressionSizeBytes: state.preCompressionSizeBytes,
  };
  return {
    ...recordOf(state),
    version: BACKUP_FORMAT_VERSION,
    serverVersion: author.serverVersion,
    leader: author.node,
    compressionType: compressionTypeOf(state.compression),
    node_mapping: null,
    nodes: Object.fromEntries(
      state.nodes.map((node) => [
        node,
        { classes: state.nodeClasses?.[node] ?? state.classes, ...(parts.get(node) ?? whole) },
      ]),
    ),
  };
}

/** The restore descriptor of restore `state`. */
export function restoreDescriptorOf(state: OperationState, author: DescriptorAuthor): RestoreDescriptor {
  return { ...recordOf(state), node: author.node, classes: state.classes };
}

/** Writes the descriptor of `state` (global for a backup, restore for a restore) to its provider. */
export function writeDescriptor(
  backend: BackupBackend,
  state: OperationState,
  author: DescriptorAuthor,
  parts?: ReadonlyMap<string, NodePart>,
): Promise<void> {
  const home = new BackupHome(state.id);
  return state.kind === 'backup'
    ? writeJson(backend, home.globalKey, globalDescriptorOf(state, author, parts), state.scope)
    : writeJson(backend, home.restoreKey, restoreDescriptorOf(state, author), state.scope);
}
