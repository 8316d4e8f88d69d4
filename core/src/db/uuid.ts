/** Object ids: UUIDs as Weaviate accepts them, and the 16 bytes objects are stored under. */
import { randomUUID } from 'node:crypto';

/** A UUID in its canonical text form (any version), as Weaviate accepts object ids. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID in its canonical text form, in either case. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/** A new random (version 4) UUID. */
export function newUuid(): string {
  return randomUUID();
}

/** The 16 bytes of a UUID: the key objects are stored under, so keys sort in UUID order. */
export function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}
