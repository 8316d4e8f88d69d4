/**
 * The defaults Weaviate (the version of WEAVIATE_API_VERSION) fills into a class it creates, field for
 * field as its `GET /v1/schema` returns them: clients read these fields and refuse a class without
 * them (the v3 client: `Vector index cleanup interval was not returned`). Strata acts on none of them
 * but `shardingConfig.desiredCount`; they are kept so that a schema round-trips through either.
 */

/** The hnsw index's settings (Weaviate's entities/vectorindex/hnsw UserConfig.SetDefaults). */
const HNSW_DEFAULTS = {
  skip: false,
  cleanupIntervalSeconds: 300,
  maxConnections: 32,
  efConstruction: 128,
  ef: -1,
  dynamicEfMin: 100,
  dynamicEfMax: 500,
  dynamicEfFactor: 8,
  vectorCacheMaxObjects: 1e12,
  flatSearchCutoff: 40000,
  distance: 'cosine',
  pq: {
    enabled: false,
    bitCompression: false,
    segments: 0,
    centroids: 256,
    trainingLimit: 100000,
    encoder: { type: 'kmeans', distribution: 'log-normal' },
  },
  bq: { enabled: false },
  sq: { enabled: false, trainingLimit: 100000, rescoreLimit: 20 },
  rq: { enabled: false, bits: 8, rescoreLimit: 20 },
  filterStrategy: 'acorn',
  multivector: {
    enabled: false,
    muvera: { enabled: false, ksim: 4, dprojections: 16, repetitions: 10 },
    aggregation: 'maxSim',
  },
  skipDefaultQuantization: false,
  trackDefaultQuantization: false,
};

/** The flat index's settings (Weaviate's entities/vectorindex/flat UserConfig.SetDefaults). */
const FLAT_DEFAULTS = {
  distance: 'cosine',
  vectorCacheMaxObjects: 1e12,
  pq: { enabled: false, rescoreLimit: -1, cache: false },
  bq: { enabled: false, rescoreLimit: -1, cache: false },
  sq: { enabled: false, rescoreLimit: -1, cache: false },
  rq: { enabled: false, rescoreLimit: -1, cache: false, bits: 8 },
  skipDefaultQuantization: false,
  trackDefaultQuantization: false,
};

/**
 * The `vectorIndexConfig` defaults of a `vectorIndexType`: Weaviate's for hnsw and flat; for other
 * types only the distance, which every index has.
 */
export function vectorIndexDefaults(vectorIndexType: string): Record<string, unknown> {
  if (vectorIndexType === 'hnsw') return HNSW_DEFAULTS;
  if (vectorIndexType === 'flat') return FLAT_DEFAULTS;
  return { distance: 'cosine' };
}

/** Weaviate's usecases/schema setInvertedConfigDefaults, with the BM25 and cleanup defaults of its config. */
export const INVERTED_INDEX_DEFAULTS = {
  bm25: { b: 0.75, k1: 1.2 },
  cleanupIntervalSeconds: 60,
  stopwords: { preset: 'en', additions: null, removals: null },
  usingBlockMaxWAND: true,
};

/** A single-node Weaviate's: one replica, and the deletion strategy it gives new classes since 1.35.7. */
export const REPLICATION_DEFAULTS = {
  factor: 1,
  asyncEnabled: false,
  deletionStrategy: 'TimeBasedResolution',
};

/** Multi-tenancy off, as Weaviate's zero value (Strata refuses `enabled: true`). */
export const MULTI_TENANCY_DEFAULTS = { enabled: false, autoTenantCreation: false, autoTenantActivation: false };

/** Virtual shards per physical one, Weaviate's sharding default. */
const VIRTUAL_PER_PHYSICAL = 128;

/** Weaviate's shardingConfig for `shards` physical shards (usecases/sharding/config). */
export function shardingDefaults(shards: number): Record<string, unknown> {
  return {
    virtualPerPhysical: VIRTUAL_PER_PHYSICAL,
    desiredCount: shards,
    actualCount: shards,
    desiredVirtualCount: VIRTUAL_PER_PHYSICAL * shards,
    actualVirtualCount: VIRTUAL_PER_PHYSICAL * shards,
    key: '_id',
    strategy: 'hash',
    function: 'murmur3',
  };
}
