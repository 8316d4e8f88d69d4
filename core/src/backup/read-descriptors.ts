import { BackupNotFoundError, type StrataError } from '../errors.js';
import type { BackendScope, BackupBackend } from '../provider/backend.js';
import {
  validateGlobalDescriptor,
  validateNodeDescriptor,
  validateRestoreDescriptor,
} from './descriptor-validation.js';
import { type GlobalDescriptor, type NodeDescriptor, type RestoreDescriptor, readDescriptor } from './descriptors.js';
import { BackupHome } from './home.js';

/**
 * A backup's descriptors, read from its provider and checked (descriptor-validation.ts) before the
 * caller sees them. Each resolves undefined when the descriptor does not exist, and rejects with
 * BackupCorruptError when it is damaged or hostile.
 */

export function readGlobalDescriptor(
  backend: BackupBackend,
  id: string,
  scope: BackendScope,
): Promise<GlobalDescriptor | undefined> {
  return readDescriptor(backend, new BackupHome(id).globalKey, scope, (key, value) =>
    validateGlobalDescriptor(key, id, value),
  );
}

export function readNodeDescriptor(
  backend: BackupBackend,
  id: string,
  node: string,
  scope: BackendScope,
): Promise<NodeDescriptor | undefined> {
  return readDescriptor(backend, new BackupHome(id).node(node).descriptorKey, scope, (key, value) =>
    validateNodeDescriptor(key, id, node, value),
  );
}

export function readRestoreDescriptor(
  backend: BackupBackend,
  id: string,
  scope: BackendScope,
): Promise<RestoreDescriptor | undefined> {
  return readDescriptor(backend, new BackupHome(id).restoreKey, scope, (key, value) =>
    validateRestoreDescriptor(key, id, value),
  );
}

/** The error for backup `id` when the descriptor of an operation of `kind` is not at `homePath`. */
export function missingDescriptor(kind: 'backup' | 'restore', id: string, homePath: string): StrataError {
  const home = new BackupHome(id);
  return new BackupNotFoundError(
    id,
    `${homePath}/${home.relative(kind === 'backup' ? home.globalKey : home.restoreKey)}`,
  );
}
