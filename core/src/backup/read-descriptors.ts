import type { BackendScope, BackupBackend } from '../provider/backend.js';
import {
  validateGlobalDescriptor,
  validateNodeDescriptor,
  validateRestoreDescriptor,
} from './descriptor-validation.js';
import {
  backupKeys,
  type GlobalDescriptor,
  type NodeDescriptor,
  type RestoreDescriptor,
  readDescriptor,
} from './descriptors.js';

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
  return readDescriptor(backend, backupKeys.global(id), scope, (key, value) =>
    validateGlobalDescriptor(key, id, value),
  );
}

export function readNodeDescriptor(
  backend: BackupBackend,
  id: string,
  node: string,
  scope: BackendScope,
): Promise<NodeDescriptor | undefined> {
  return readDescriptor(backend, backupKeys.node(id, node), scope, (key, value) =>
    validateNodeDescriptor(key, id, node, value),
  );
}

export function readRestoreDescriptor(
  backend: BackupBackend,
  id: string,
  scope: BackendScope,
): Promise<RestoreDescriptor | undefined> {
  return readDescriptor(backend, backupKeys.restore(id), scope, (key, value) =>
    validateRestoreDescriptor(key, id, value),
  );
}
