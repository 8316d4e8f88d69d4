/**
 * @strata/core: the surface a backup provider is written against.
 *
 * A provider package imports only from here: the `BackupBackend` contract, `defineBackupModule`, the
 * typed errors core relies on, configuration helpers and DI tokens. Nothing here depends on the rest
 * of core (store, backup orchestration, HTTP), so the surface stays small and stable. The module
 * loader itself is at `@strata/core/modules`.
 *
 * @packageDocumentation
 */

export {
  ConfigValueError,
  type ConfigValueProblem,
  defineError,
  hasCode,
  InvalidKeyError,
  NotFoundError,
  quoted,
  StrataError,
  type StrataErrorClass,
  UnsupportedScopeError,
} from './errors.js';
export type {
  BackendCapabilities,
  BackendScope,
  BackupBackend,
  CallOptions,
  ObjectInfo,
} from './provider/backend.js';
export { type ConfigSpec, type ConfigValues, type EnvVarSpec, parsers } from './provider/config.js';
export { assertSafeKey, keyPrefix } from './provider/keys.js';
export {
  type BackupModule,
  type BackupModuleDefinition,
  defineBackupModule,
  MODULE_API_VERSION,
  MODULE_BRAND,
  type ModuleContext,
  type ModuleLogger,
} from './provider/module-definition.js';
export { type ResumingDownloadOptions, resumingDownload } from './provider/resuming-download.js';
export { BACKUP_BACKEND, MODULE_CONFIG, MODULE_LOGGER } from './provider/tokens.js';
