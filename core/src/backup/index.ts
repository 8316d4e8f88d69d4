/** Backup and restore: Weaviate's backup use cases over the node's classes and the enabled providers. */
export type { CompressionLevel } from './chunk-codec.js';
export { type CopyEnd, type CopyOptions, type CopyProgress, type CopyResult, copyBackup } from './copy.js';
export type { BackupStatus } from './descriptors.js';
export { type BackupObject, BackupHome, NodeHome } from './home.js';
export { assertRootOutsideDataPath } from './locations.js';
export type { Progress } from './progress.js';
export {
  type BackupListItem,
  type BackupRequest,
  BackupScheduler,
  type OperationStatus,
  type RestoreRequest,
  type SchedulerOptions,
} from './scheduler.js';
