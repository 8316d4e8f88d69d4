/**
 * Classes (Weaviate's collections) as the REST API accepts and returns them: Weaviate's `Class` JSON,
 * validated with Weaviate's naming rules and messages, with the defaults Weaviate fills in
 * (class-defaults.ts; properties: property-definition.ts). Fields Strata does not act on
 * (vectorIndexConfig, moduleConfig, ...) are kept as given over those defaults, so a schema exported
 * from Weaviate round-trips.
 */
import {
  ClassNameMissingError,
  ClassNameTooLongError,
  ClassNotObjectError,
  InvalidClassNameError,
  MultiTenancyUnsupportedError,
  PropertiesNotArrayError,
  PropertyConflictError,
  ReplicationUnsupportedError,
  ShardCountError,
  TooManyPropertiesError,
  VectorizerUnsupportedError,
} from '../errors.js';
import {
  INVERTED_INDEX_DEFAULTS,
  MULTI_TENANCY_DEFAULTS,
  REPLICATION_DEFAULTS,
  shardingDefaults,
  vectorIndexDefaults,
} from './class-defaults.js';
import { isRecord, withDefaults, withoutNulls } from './json-objects.js';
import { normalizeProperty, type PropertyDefinition } from './property-definition.js';

/** A class as normalized by {@link normalizeClass}: what schema.json stores and the REST API answers. */
export interface ClassDefinition {
  class: string;
  description?: string;
  properties: PropertyDefinition[];
  vectorizer: string;
  vectorIndexType: string;
  vectorIndexConfig: Record<string, unknown>;
  invertedIndexConfig: Record<string, unknown>;
  multiTenancyConfig: Record<string, unknown>;
  replicationConfig: Record<string, unknown>;
  shardingConfig: ShardingConfig;
  [field: string]: unknown;
}

/** How many shards a class has (Strata honours `desiredCount`; the rest is kept as given). */
export interface ShardingConfig {
  desiredCount: number;
  actualCount: number;
  [field: string]: unknown;
}

/** What a class name may be (Weaviate's GraphQL-name rule); it is also a directory and key segment. */
export const CLASS_NAME = /^[A-Z][_0-9A-Za-z]{0,254}$/;
/** The longest class name, which Weaviate reports apart from other broken names. */
const CLASS_NAME_LIMIT = 255;
/** Shards per class; each is a store directory of its own. */
export const MAX_SHARDS = 64;
/**
 * Properties of a class, nested ones included. Every class change rewrites schema.json whole, and
 * every object's properties are checked against the class: 300,000 properties held the event loop
 * for 4 s.
 */
export const MAX_CLASS_PROPERTIES = 1000;

/** How many properties `properties` declares, nested ones included, counting no further than `limit + 1`. */
function countProperties(properties: readonly unknown[], limit: number): number {
  let count = 0;
  const pending: unknown[][] = [[...properties]];
  for (let list = pending.pop(); list !== undefined && count <= limit; list = pending.pop()) {
    count += list.length;
    for (const property of list) {
      const nested = isRecord(property) ? property.nestedProperties : undefined;
      if (Array.isArray(nested) && count <= limit) pending.push(nested);
    }
  }
  return count;
}

/** Weaviate upper-cases the first letter of class names it receives; so does Strata. */
export function capitalizeClassName(name: string): string {
  return name.length === 0 ? name : name[0]?.toUpperCase() + name.slice(1);
}

/** A class name as a key: class names are unique ignoring case, so the schema and its holds key them so. */
export function classNameKey(name: string): string {
  return capitalizeClassName(name).toLowerCase();
}

function normalizeSharding(input: unknown): ShardingConfig {
  const config = isRecord(input) ? input : {};
  const desired = config.desiredCount ?? 1;
  if (!Number.isInteger(desired) || (desired as number) < 1 || (desired as number) > MAX_SHARDS) {
    throw new ShardCountError(MAX_SHARDS);
  }
  return {
    ...shardingDefaults(desired as number),
    ...withoutNulls(config),
    desiredCount: desired as number,
    actualCount: desired as number,
  };
}

/**
 * Validates a class as `POST /v1/schema` receives it and returns it with Weaviate's defaults.
 * @throws one of the class errors of errors.ts (ClassNameMissingError, UnknownDataTypeError, ...), with
 * Weaviate's wording where it has one.
 */
export function normalizeClass(input: unknown): ClassDefinition {
  if (!isRecord(input)) throw new ClassNotObjectError();
  if (typeof input.class !== 'string' || input.class === '') throw new ClassNameMissingError();
  const name = capitalizeClassName(input.class);
  if (name.length > CLASS_NAME_LIMIT) throw new ClassNameTooLongError(name, CLASS_NAME_LIMIT);
  if (!CLASS_NAME.test(name)) throw new InvalidClassNameError(name);
  const multiTenancy = isRecord(input.multiTenancyConfig) ? input.multiTenancyConfig : {};
  if (multiTenancy.enabled === true) throw new MultiTenancyUnsupportedError(name);
  const replication = isRecord(input.replicationConfig) ? input.replicationConfig : {};
  if (replication.factor !== undefined && replication.factor !== 1) {
    throw new ReplicationUnsupportedError(name, replication.factor);
  }
  // Unset, null or "": Weaviate's default module, which is none.
  const vectorizer = input.vectorizer === '' ? 'none' : (input.vectorizer ?? 'none');
  if (vectorizer !== 'none') throw new VectorizerUnsupportedError(vectorizer);
  const properties = input.properties ?? [];
  if (!Array.isArray(properties)) throw new PropertiesNotArrayError(name);
  if (countProperties(properties, MAX_CLASS_PROPERTIES) > MAX_CLASS_PROPERTIES) {
    throw new TooManyPropertiesError(name, MAX_CLASS_PROPERTIES);
  }
  const normalized = properties.map((property) => normalizeProperty(name, property));
  const seen = new Set<string>();
  for (const property of normalized) {
    const key = property.name.toLowerCase();
    if (seen.has(key)) throw new PropertyConflictError(name, property.name);
    seen.add(key);
  }
  const vectorIndexType =
    typeof input.vectorIndexType === 'string' && input.vectorIndexType !== '' ? input.vectorIndexType : 'hnsw';
  return {
    ...withoutNulls(input),
    class: name,
    properties: normalized,
    vectorizer: 'none',
    vectorIndexType,
    vectorIndexConfig: withDefaults(vectorIndexDefaults(vectorIndexType), input.vectorIndexConfig),
    invertedIndexConfig: withDefaults(INVERTED_INDEX_DEFAULTS, input.invertedIndexConfig),
    replicationConfig: withDefaults(REPLICATION_DEFAULTS, input.replicationConfig),
    multiTenancyConfig: withDefaults(MULTI_TENANCY_DEFAULTS, multiTenancy),
    shardingConfig: normalizeSharding(input.shardingConfig),
  };
}
