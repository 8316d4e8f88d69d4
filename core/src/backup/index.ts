/** Backup and restore: Weaviate's backup use cases over the node's classes and the enabled providers. */
export type { BackupCluster } from './backup-cluster.js';
export type { CompressionLevel } from './chunk-codec.js';
export { type CopyEnd, type CopyOptions, type CopyProgress, type CopyResult, copyBackup } from './copy.js';
export type { BackupStatus } from './descriptors.js';
export { BackupHome, type BackupObject, NodeHome } from './home.js';
export { LocalParticipant, type LocalParticipantOptions } from './local-participant.js';
export { assertRootOutsideDataPath } from './locations.js';
export type { ListedOperation, OperationState, OperationStore, SharedOperationStore } from './operation-store.js';
export type { Progress } from './progress.js';
export type { BackupRequest, RestoreRequest } from './requests.js';
export { BackupScheduler, type SchedulerOptions } from './scheduler.js';
export type { BackupListItem, OperationStatus } from './status-queries.js';
