/**
 * An object as the node stores it: the JSON document below, under its UUID's 16 bytes in the
 * `objects` bucket of its shard's store. Self-contained (class and id included), so a shard's files
 * are meaningful on their own, as backups need.
 */
export interface StoredObject {
  readonly class: string;
  readonly id: string;
  readonly properties: Record<string, unknown>;
  readonly vector?: number[] | undefined;
  readonly vectors?: Record<string, number[]> | undefined;
  readonly creationTimeUnix: number;
  readonly lastUpdateTimeUnix: number;
}

/** The bucket objects live in. */
export const OBJECTS_BUCKET = 'objects';

/** An object's stored bytes: its JSON. */
export function encodeObject(object: StoredObject): Buffer {
  return Buffer.from(JSON.stringify(object));
}

/** The object stored as `bytes`. */
export function decodeObject(bytes: Uint8Array): StoredObject {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as StoredObject;
}
