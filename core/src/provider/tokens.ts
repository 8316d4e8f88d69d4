/**
 * Dependency-injection tokens shared by core and modules. They are strings, not classes or unique
 * symbols, so they stay equal even if two copies of @strata/core end up installed.
 */

/** Where a module's `register()` puts its `BackupBackend`; core resolves it from the module's container. */
export const BACKUP_BACKEND = 'strata:BackupBackend';

/** The module's validated configuration (`ConfigValues`), registered by core before `register()` runs. */
export const MODULE_CONFIG = 'strata:ModuleConfig';

/** The module's logger (`ModuleLogger`), registered by core before `register()` runs. */
export const MODULE_LOGGER = 'strata:ModuleLogger';
