/** Every error @strata/backup-filesystem raises; codes are stable (see docs/errors.md). */
import { defineError } from '@strata/core';

export const RootUnavailableError = defineError(
  'STRATA_FS_ROOT_UNAVAILABLE',
  500,
  (root: string, reason: string) =>
    `backup-filesystem cannot use ${root}: ${reason}. Check that BACKUP_FILESYSTEM_PATH (or config.Path) names a ` +
    `directory the Strata process may create, read and write.`,
);
