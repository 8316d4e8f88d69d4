/** Classes and objects over the LSM store: the data a Strata node serves and backs up. */
export {
  CLASS_NAME,
  type ClassDefinition,
  capitalizeClassName,
  DATA_TYPES,
  MAX_CLASS_PROPERTIES,
  normalizeClass,
  type PropertyDefinition,
} from './class-definition.js';
export {
  type BatchResult,
  type ClassSnapshot,
  Database,
  type DatabaseOptions,
  type ObjectInput,
  QUERY_MAXIMUM_RESULTS,
  type StagedClass,
} from './database.js';
export { OBJECT_LIMITS } from './object-validation.js';
export type { ClassRecord, ShardRecord } from './schema-file.js';
export type { Shard } from './shard.js';
export type { StoredObject } from './stored-object.js';
export { isUuid } from './uuid.js';
