/**
 * Object writes and reads by id (POST, PUT, PATCH, GET, DELETE /v1/objects and POST /v1/batch/objects):
 * each object validated against its class, stamped, and kept in the shard its id hashes to.
 */
import {
  ClassNotFoundError,
  InvalidObjectIdError,
  NamedVectorsNotObjectError,
  ObjectClassMismatchError,
  ObjectClassMissingError,
  ObjectExistsError,
  ObjectIdMismatchError,
  ObjectNotFoundError,
  ObjectTooLargeError,
  TenantUnsupportedError,
  TooManyNamedVectorsError,
} from '../errors.js';
import type { BatchOperation } from '../store/index.js';
import { TimeSlice } from '../time-slice.js';
import { capitalizeClassName } from './class-definition.js';
import { isRecord } from './json-objects.js';
import { OBJECT_LIMITS, validateProperties, validateVector } from './object-validation.js';
import type { LiveClass, SchemaRegistry } from './schema-registry.js';
import type { Shard } from './shard.js';
import { openShardFor } from './shard-routing.js';
import { decodeObject, encodeObject, OBJECTS_BUCKET, type StoredObject } from './stored-object.js';
import { isUuid, newUuid, uuidBytes } from './uuid.js';

/** An object as a request gives it (POST /v1/objects, PUT, PATCH, batch). */
export interface ObjectInput {
  readonly class?: unknown;
  readonly id?: unknown;
  readonly properties?: unknown;
  readonly vector?: unknown;
  readonly vectors?: unknown;
  readonly tenant?: unknown;
}

/** The outcome of one object of a batch. */
export type BatchResult = { readonly object: StoredObject } | { readonly input: ObjectInput; readonly error: Error };

/**
 * A store batch is applied in one go, so a request's batch is written in store batches of at most
 * this many objects or bytes: 500 small objects take a few milliseconds, 100,000 held the event loop
 * for a quarter of a second, and 500 objects with 1536-dimension vectors (15 MB) for 50 ms.
 */
const STORE_BATCH_OBJECTS = 500;
const STORE_BATCH_BYTES = 1024 * 1024;

/**
 * Creates an object (POST /v1/objects). Where this node serves only its own shards, an object
 * without an id may get one that maps to another node's shard: a router gives ids first.
 * @throws ClassNotFoundError, ObjectExistsError, an object error of errors.ts (UnknownPropertyError, ...),
 * or ShardNotLocalError when the object's shard is not open here (checked after the object is validated).
 */
export function createObject(schema: SchemaRegistry, input: ObjectInput): Promise<StoredObject> {
  return schema.use(classOf(input), async (live) => {
    const object = prepare(live, input, undefined);
    const shard = openShardFor(live, object.id);
    if ((await shard.objects.get(uuidBytes(object.id))) !== undefined) throw new ObjectExistsError(object.id);
    await shard.objects.put(uuidBytes(object.id), encodeLimited(object));
    return object;
  });
}

/**
 * Replaces an object (PUT) or merges into it (PATCH: properties shallow-merged, vector replaced if
 * given). The creation time is kept. An id that is not a UUID names no object.
 * @throws ClassNotFoundError, ObjectNotFoundError, an object error of errors.ts (ObjectIdMismatchError, ...),
 * or ShardNotLocalError when the object's shard is not open here.
 */
export function updateObject(
  schema: SchemaRegistry,
  className: string,
  id: string,
  input: ObjectInput,
  mode: 'replace' | 'merge',
): Promise<StoredObject> {
  return schema.use(className, async (live) => {
    if (input.class !== undefined && capitalizeClassName(String(input.class)) !== live.record.definition.class) {
      throw new ObjectClassMismatchError(String(input.class), className);
    }
    if (input.id !== undefined && String(input.id).toLowerCase() !== id.toLowerCase()) {
      throw new ObjectIdMismatchError(String(input.id), id);
    }
    // Before any shard lookup: such an id cannot name an object (getObject finds none), wherever it would map.
    if (!isUuid(id)) throw new ObjectNotFoundError(live.record.definition.class, id);
    const existing = await read(live, id);
    if (existing === undefined) throw new ObjectNotFoundError(live.record.definition.class, id);
    const merged: ObjectInput =
      mode === 'merge'
        ? {
            properties: { ...existing.properties, ...(isRecord(input.properties) ? input.properties : {}) },
            vector: input.vector ?? existing.vector,
            vectors: input.vectors ?? existing.vectors,
            tenant: input.tenant,
          }
        : input;
    const object = prepare(live, { ...merged, id: existing.id }, existing.creationTimeUnix);
    await openShardFor(live, object.id).objects.put(uuidBytes(object.id), encodeLimited(object));
    return object;
  });
}

/**
 * The object, or undefined when it (or its class) does not exist.
 * @throws ShardNotLocalError when the object's shard is not open here.
 */
export async function getObject(
  schema: SchemaRegistry,
  className: string,
  id: string,
): Promise<StoredObject | undefined> {
  if (schema.find(className) === undefined || !isUuid(id)) return undefined;
  return schema.use(className, (live) => read(live, id));
}

/**
 * Deletes an object; resolves false when it (or its class) did not exist.
 * @throws ShardNotLocalError when the object's shard is not open here.
 */
export async function deleteObject(schema: SchemaRegistry, className: string, id: string): Promise<boolean> {
  if (schema.find(className) === undefined || !isUuid(id)) return false;
  return schema.use(className, async (live) => {
    const shard = openShardFor(live, id);
    if ((await shard.objects.get(uuidBytes(id))) === undefined) return false;
    await shard.objects.delete(uuidBytes(id));
    return true;
  });
}

/**
 * Writes a batch (POST /v1/batch/objects): each object is validated on its own and reported on its
 * own. The valid ones are written in store batches of at most 500 objects or 1 MiB per shard, each atomic (a
 * large batch is not one transaction, nor is it in Weaviate). Existing ids are overwritten, as in
 * Weaviate. An object whose shard is not open here fails on its own (ShardNotLocalError). Linear in
 * the batch's size; it lets the event loop turn every few milliseconds, so the node answers other
 * requests while a large batch runs.
 */
export async function batchObjects(schema: SchemaRegistry, inputs: readonly ObjectInput[]): Promise<BatchResult[]> {
  const slice = new TimeSlice();
  const results: BatchResult[] = new Array(inputs.length);
  const byClass = new Map<string, number[]>();
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as ObjectInput;
    const name = typeof input.class === 'string' ? capitalizeClassName(input.class) : '';
    if (schema.find(name) === undefined) results[i] = { input, error: new ClassNotFoundError(name) };
    else {
      const indexes = byClass.get(name);
      if (indexes === undefined) byClass.set(name, [i]);
      else indexes.push(i);
    }
    if (slice.due) await slice.next();
  }
  for (const [name, indexes] of byClass) {
    // The class may have been deleted while this batch yielded: its objects fail, not the batch.
    if (schema.find(name) === undefined) {
      for (const i of indexes) results[i] = { input: inputs[i] as ObjectInput, error: new ClassNotFoundError(name) };
      continue;
    }
    await schema.use(name, async (live) => {
      const pending = new Map<Shard, { operations: BatchOperation[]; bytes: number }>();
      const writes: Promise<void>[] = [];
      const write = (shard: Shard, operations: BatchOperation[]) => {
        const written = shard.store.batch(operations);
        // Awaited below with the others; handled now, so an early failure is no unhandled rejection.
        written.catch(() => {});
        writes.push(written);
      };
      for (const i of indexes) {
        const input = inputs[i] as ObjectInput;
        try {
          const object = prepare(live, input, undefined);
          const shard = openShardFor(live, object.id);
          const existing = await read(live, object.id);
          const stored = existing === undefined ? object : { ...object, creationTimeUnix: existing.creationTimeUnix };
          let group = pending.get(shard);
          if (group === undefined) {
            group = { operations: [], bytes: 0 };
            pending.set(shard, group);
          }
          const value = encodeLimited(stored);
          group.operations.push({ type: 'put', bucket: OBJECTS_BUCKET, key: uuidBytes(object.id), value });
          group.bytes += value.length;
          if (group.operations.length >= STORE_BATCH_OBJECTS || group.bytes >= STORE_BATCH_BYTES) {
            write(shard, group.operations);
            pending.delete(shard);
          }
          results[i] = { object: stored };
        } catch (error) {
          results[i] = { input, error: error as Error };
        }
        if (slice.due) await slice.next();
      }
      for (const [shard, group] of pending) write(shard, group.operations);
      await Promise.all(writes);
    });
  }
  return results;
}

function classOf(input: ObjectInput): string {
  if (typeof input.class !== 'string' || input.class === '') throw new ObjectClassMissingError();
  return input.class;
}

/** Validates an object for class `live` and stamps it: a new id if none, timestamps. */
function prepare(live: LiveClass, input: ObjectInput, created: number | undefined): StoredObject {
  const definition = live.record.definition;
  if (input.tenant !== undefined && input.tenant !== null && input.tenant !== '') {
    throw new TenantUnsupportedError(definition.class);
  }
  if (input.id !== undefined && !isUuid(input.id)) throw new InvalidObjectIdError(input.id);
  const properties = validateProperties(definition, input.properties);
  const vector = validateVector(input.vector, 'vector');
  let vectors: Record<string, number[]> | undefined;
  if (input.vectors !== undefined && input.vectors !== null) {
    if (!isRecord(input.vectors)) throw new NamedVectorsNotObjectError();
    const count = Object.keys(input.vectors).length;
    if (count > OBJECT_LIMITS.namedVectors) throw new TooManyNamedVectorsError(count, OBJECT_LIMITS.namedVectors);
    vectors = Object.fromEntries(
      Object.entries(input.vectors).map(([name, v]) => [name, validateVector(v, `vectors.${name}`) ?? []]),
    );
  }
  const now = Date.now();
  return {
    class: definition.class,
    id: input.id === undefined ? newUuid() : (input.id as string).toLowerCase(),
    properties,
    ...(vector === undefined ? {} : { vector }),
    ...(vectors === undefined ? {} : { vectors }),
    creationTimeUnix: created ?? now,
    lastUpdateTimeUnix: now,
  };
}

/** `object` encoded for the store; refused when larger than an object may be (a merge can grow one). */
function encodeLimited(object: StoredObject): Buffer {
  const value = encodeObject(object);
  if (value.length > OBJECT_LIMITS.bytes) throw new ObjectTooLargeError(value.length, OBJECT_LIMITS.bytes);
  return value;
}

async function read(live: LiveClass, id: string): Promise<StoredObject | undefined> {
  const bytes = await openShardFor(live, id).objects.get(uuidBytes(id));
  return bytes === undefined ? undefined : decodeObject(bytes);
}
