/** Classes and objects over the LSM store: the data a Strata node serves and backs up. */
export {
  CLASS_NAME,
  type ClassDefinition,
  capitalizeClassName,
  MAX_CLASS_PROPERTIES,
  normalizeClass,
} from './class-definition.js';
export type { DataApi, NodeStatus } from './data-api.js';
export type { DataFs } from './data-fs.js';
export { shardDirectory } from './data-path.js';
export { Database, type DatabaseOptions } from './database.js';
export { newShardName } from './names.js';
export { type PageQuery, QUERY_MAXIMUM_RESULTS } from './object-pages.js';
export { OBJECT_LIMITS } from './object-validation.js';
export type { BatchResult, ObjectInput } from './objects.js';
export { DATA_TYPES, type PropertyDefinition } from './property-definition.js';
export type { ClassRecord, ShardRecord } from './schema-file.js';
export { type Shard, shardIndex } from './shard.js';
export type { StagedClass } from './shard-attach.js';
export type { ClassSnapshot } from './shard-snapshot.js';
export type { ShardStats } from './shard-stats.js';
export type { StoredObject } from './stored-object.js';
export { isUuid, newUuid, uuidBytes } from './uuid.js';
