/**
 * @strata/backup-filesystem: stores Strata backups in a local directory.
 *
 * Enable it with `ENABLE_MODULES=backup-filesystem` and set `BACKUP_FILESYSTEM_PATH` to an absolute
 * directory. Backups land under `<BACKUP_FILESYSTEM_PATH>/<backup id>/`. The directory is local to
 * one machine, so the module declares itself not external: a multi-node cluster cannot use it.
 *
 * @packageDocumentation
 */
import { BACKUP_BACKEND, defineBackupModule, MODULE_API_VERSION, parsers } from '@strata/core';
import { FilesystemBackend } from './filesystem-backend.js';
import type { BackendFs } from './fs.js';

/**
 * The dependency-injection token of the filesystem the module works on. Register a `BackendFs`
 * (memfs, a fault-injecting wrapper) under it in the node's container to replace node:fs.
 */
export const FILESYSTEM_FS = 'strata:backup-filesystem:fs';

export { FilesystemBackend, type FilesystemBackendOptions } from './filesystem-backend.js';
export type { BackendDirent, BackendFileHandle, BackendFs } from './fs.js';

export default defineBackupModule({
  name: 'backup-filesystem',
  altNames: ['filesystem'],
  apiVersion: MODULE_API_VERSION,
  capabilities: { external: false, pathScope: 'directory' },
  config: {
    path: {
      name: 'BACKUP_FILESYSTEM_PATH',
      required: true,
      parse: parsers.absolutePath,
      description: 'The absolute directory backups are written to; created if absent.',
    },
  },
  meta: (config) => ({ backupsPath: config.path }),
  async register({ container, config }) {
    const fs = container.isRegistered(FILESYSTEM_FS, true) ? container.resolve<BackendFs>(FILESYSTEM_FS) : undefined;
    const backend = new FilesystemBackend({ root: config.path, ...(fs === undefined ? {} : { fs }) });
    await backend.init();
    container.register(BACKUP_BACKEND, { useValue: backend });
  },
});
