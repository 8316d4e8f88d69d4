import type { BackendScope, BackupBackend } from '../provider/backend.js';
import type { ModuleLogger } from '../provider/module-definition.js';
import type { BackupHome } from './home.js';
import { runPool } from './pool.js';

/**
 * Deleting what a backup wrote, by the keys of its layout (home.ts). Never "everything under the
 * prefix": a backup id is a directory name that may hold objects (or, for a filesystem, files) it did
 * not write.
 */

/** Objects deleted at once. */
const DELETE_CONCURRENCY = 8;

/**
 * Deletes what `nodes` wrote of the backup at `home`: each node's descriptor and the chunks of its
 * classes (a listing of each class's chunk prefix, keeping only keys that parse as its chunks).
 */
export async function deleteBackupObjects(
  backend: BackupBackend,
  home: BackupHome,
  nodes: Readonly<Record<string, { readonly classes: readonly string[] }>>,
  scope: BackendScope,
): Promise<void> {
  const keys: string[] = [];
  for (const [node, { classes }] of Object.entries(nodes)) {
    const nodeHome = home.node(node);
    keys.push(nodeHome.descriptorKey);
    for (const className of classes) {
      for await (const object of backend.list(nodeHome.chunksPrefix(className), { scope })) {
        const parsed = home.parse(object.key);
        if (parsed?.kind === 'chunk' && parsed.node === node && parsed.className === className) keys.push(object.key);
      }
    }
  }
  await runPool(keys, DELETE_CONCURRENCY, new AbortController().signal, (key) => backend.delete(key, { scope }));
}

/**
 * Removes what writes cut short by a crash left under `home` in the provider (temporary files,
 * unfinished multipart uploads), for providers that keep such state. A failure (a permission the
 * provider was not given, say) is logged: it must not keep the operation from being settled.
 */
export async function discardPartialWrites(
  backend: BackupBackend,
  home: BackupHome,
  scope: BackendScope,
  logger: ModuleLogger,
): Promise<void> {
  if (backend.discardPartialWrites === undefined) return;
  try {
    const discarded = await backend.discardPartialWrites(home.prefix, { scope });
    if (discarded > 0) logger.info({ id: home.id, discarded }, `removed ${discarded} interrupted writes of ${home.id}`);
  } catch (error) {
    logger.warn(
      { id: home.id, err: error },
      `could not remove what interrupted writes of ${home.id} left in the provider`,
    );
  }
}
