import { OBJECT_LIMITS } from '../../db/index.js';

/** JSON schemas of object requests: Weaviate's `Object` as far as Strata validates it up front. */

export const objectBody = {
  type: 'object',
  properties: {
    class: { type: 'string', description: 'The class (collection) of the object.' },
    id: { type: 'string', format: 'uuid', description: 'The object id; generated when absent.' },
    properties: { type: 'object', description: "The object's properties, as declared by its class." },
    vector: {
      type: 'array',
      maxItems: OBJECT_LIMITS.dimensions,
      items: { type: 'number' },
      description: 'The object vector, stored as given.',
    },
    vectors: {
      type: 'object',
      maxProperties: OBJECT_LIMITS.namedVectors,
      description: 'Named vectors, stored as given.',
    },
    tenant: { type: 'string', description: 'Not supported: classes have no tenants in Strata.' },
  },
} as const;

export const objectPath = {
  type: 'object',
  required: ['className', 'id'],
  properties: { className: { type: 'string' }, id: { type: 'string', format: 'uuid' } },
} as const;

export const includeQuery = {
  type: 'object',
  properties: { include: { type: 'string', description: 'Comma-separated; `vector` adds the vector.' } },
} as const;

export const listQuery = {
  type: 'object',
  properties: {
    class: { type: 'string' },
    limit: { type: 'integer', minimum: 0, default: 25 },
    offset: { type: 'integer', minimum: 0, default: 0 },
    after: { type: 'string', format: 'uuid' },
    include: { type: 'string' },
  },
} as const;

/** A batch, as the OpenAPI document shows it. */
/**
 * Objects in one batch. The body limit alone would let 450,000 small objects in; the heap that many
 * take (their input, their results, the memtable) made collections pause the node for up to 100 ms.
 * At 100,000 the liveness probe answers within 40 ms (bench:liveness); clients send 100 at a time.
 */
export const MAX_BATCH_OBJECTS = 100_000;

export const batchBody = {
  type: 'object',
  required: ['objects'],
  properties: {
    fields: { type: 'array', items: { type: 'string' } },
    objects: { type: 'array', maxItems: MAX_BATCH_OBJECTS, items: objectBody },
  },
} as const;

/**
 * What the batch route validates before its handler runs: {@link batchBody} without its items. The
 * handler checks each item in turn and lets the event loop turn meanwhile: Ajv would check all of a
 * 64 MiB batch in one go.
 */
export const batchShape = {
  type: 'object',
  required: ['objects'],
  properties: { fields: { type: 'array' }, objects: { type: 'array', maxItems: MAX_BATCH_OBJECTS } },
} as const;

/** One of `fields`. */
export const batchField = { type: 'string' } as const;
