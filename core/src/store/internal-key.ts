import { EntryTooLargeError, InvalidBucketError } from '../errors.js';

/**
 * All buckets of a store share one ordered key space. An internal key is the bucket's name,
 * length-prefixed, followed by the user's key, so each bucket's keys are contiguous and ordered:
 *
 * ```
 * +-----------+----------------------+------------------+
 * | nameLen u8| bucket name (ASCII)  | user key bytes   |
 * +-----------+----------------------+------------------+
 * ```
 */

const BUCKET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The largest user key, in bytes. */
export const MAX_KEY_BYTES = 16 * 1024;
/** The largest value, in bytes. */
export const MAX_VALUE_BYTES = 64 * 1024 * 1024;

/** The prefix every internal key of bucket `name` starts with. */
export function bucketPrefix(name: string): Buffer {
  if (!BUCKET_NAME.test(name)) throw new InvalidBucketError(name);
  const prefix = Buffer.allocUnsafe(1 + name.length);
  prefix[0] = name.length;
  prefix.write(name, 1, 'latin1');
  return prefix;
}

/** A user key or value given as bytes or a string (UTF-8). */
export type Bytes = Uint8Array | string;

/** `value` as a Buffer, sharing memory when it already is one. */
export function toBuffer(value: Bytes): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** The internal key of user key `key` in the bucket with `prefix`. */
export function internalKey(prefix: Buffer, key: Bytes): Buffer {
  const bytes = toBuffer(key);
  if (bytes.length > MAX_KEY_BYTES) throw new EntryTooLargeError('key', bytes.length, MAX_KEY_BYTES);
  const out = Buffer.allocUnsafe(prefix.length + bytes.length);
  prefix.copy(out, 0);
  bytes.copy(out, prefix.length);
  return out;
}

/** Checks a value's size and returns it as a Buffer. */
export function valueBytes(value: Bytes): Buffer {
  const bytes = toBuffer(value);
  if (bytes.length > MAX_VALUE_BYTES) throw new EntryTooLargeError('value', bytes.length, MAX_VALUE_BYTES);
  return bytes;
}
